// One catalogue of failure classes (DESIGN.md "Error taxonomy") and of exit codes.
// Error classes are stable strings used in every output; never build them from message text.

export type FixedErrorCode =
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'dns'
  | 'tls'
  | 'ports_exhausted'
  | 'fds_exhausted'
  | 'protocol'
  | 'expect_failed'
  | 'aborted'
  | 'unreachable'
  | 'error';

/** `http_<status>`, `closed_<code>`, `step_<name>_<status|error>` are open families. */
export type ErrorCode = FixedErrorCode | `http_${number}` | `closed_${number}` | `step_${string}`;

export type Side = 'generator' | 'target';

/** Which side a failure class most likely comes from. */
export function sideOf(code: string): Side {
  return code === 'ports_exhausted' || code === 'fds_exhausted' ? 'generator' : 'target';
}

export const EXIT = {
  ok: 0,
  failed: 1, // the run completed but no point passed / a threshold was not met
  usage: 2, // bad flag, bad file, bad input
  internal: 3, // a bug in holdline
  interrupted: 130,
} as const;

/** A failure with a stable code and a hint for the user. */
export class HoldlineError extends Error {
  readonly code: string;
  readonly hint?: string;
  constructor(code: string, message: string, hint?: string) {
    super(message);
    this.name = 'HoldlineError';
    this.code = code;
    this.hint = hint;
  }
}

/** A mistake of the user (flag, file, URL): printed as one message, exit 2, never a stack trace. */
export class UserError extends HoldlineError {
  constructor(message: string, hint?: string) {
    super('usage', message, hint);
    this.name = 'UserError';
  }
}
