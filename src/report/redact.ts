// Secrets never reach a result file or a log: tokens in query strings, passwords in URLs,
// credentials in headers and in config keys named like secrets. Templates (`{{token}}`) are kept:
// they name a variable, not its value.

import { REDACTED, type RunInfo, type RunResult, type StepResult, type StepSpec } from '../contract.js';

export { REDACTED };

/** Names the user marked with `--redact`, lower-cased; none by default. */
type Extra = ReadonlySet<string>;
const NONE: Extra = new Set();

/** Query parameters and config keys whose value is a credential. */
const SECRET_NAME =
  /token|secret|passw|pwd|auth|api[-_]?key|key$|jwt|signature|^sig$|credential|cookie|session[-_]?id/i;
/** Header names: the list above, plus anything containing `key` (X-Api-Key, X-Key-Id, …). */
const SECRET_HEADER = /token|secret|passw|pwd|auth|key|jwt|signature|credential|cookie|^proxy-/i;
const JWT = /^eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*$/;
const HEADER_MAP = /^(headers?|httpHeaders)$/i;
const TEMPLATE = /^\{\{[^{}]*\}\}$/;
const SCHEME_URL = /^[a-z][a-z0-9+.-]*:\/\//i;
const AUTH_SCHEME = /^(bearer|basic|token|digest|negotiate)\s+\S/i;

export function isSecretName(name: string, extra: Extra = NONE): boolean {
  return SECRET_NAME.test(name) || extra.has(name.toLowerCase());
}

export function isSecretHeader(name: string, extra: Extra = NONE): boolean {
  return SECRET_HEADER.test(name) || extra.has(name.toLowerCase());
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function redactParams(params: string, extra: Extra, seen?: Set<string>): string {
  return params
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0) return part;
      const value = part.slice(eq + 1);
      if (value === '' || TEMPLATE.test(decode(value))) return part;
      const name = decode(part.slice(0, eq));
      if (!isSecretName(name, extra) && !JWT.test(decode(value))) return part;
      seen?.add(value).add(decode(value));
      return `${part.slice(0, eq)}=${REDACTED}`;
    })
    .join('&');
}

/**
 * `wss://bob:pw@host/ws?token=abc&room=1` → `wss://bob@host/ws?token=[redacted]&room=1`.
 * Works on the text, so the rest of the URL keeps its exact spelling (and invalid URLs are still
 * cleaned).
 */
export function redactUrl(u: string, extra: Extra = NONE, seen?: Set<string>): string {
  const hashAt = u.indexOf('#');
  const beforeHash = hashAt >= 0 ? u.slice(0, hashAt) : u;
  const fragment = hashAt >= 0 ? u.slice(hashAt + 1) : null;
  const qAt = beforeHash.indexOf('?');
  let base = qAt >= 0 ? beforeHash.slice(0, qAt) : beforeHash;
  const query = qAt >= 0 ? beforeHash.slice(qAt + 1) : null;
  base = base.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (colon >= 0) seen?.add(userinfo.slice(colon + 1));
    return user ? `${scheme}${user}@` : scheme;
  });
  // A JWT as a path segment (`/ws/eyJ…`) is a credential too.
  base = base
    .split('/')
    .map((seg) => (JWT.test(seg) ? (seen?.add(seg), REDACTED) : seg))
    .join('/');
  let out = base;
  if (query !== null) out += `?${redactParams(query, extra, seen)}`;
  if (fragment !== null) out += `#${fragment.includes('=') ? redactParams(fragment, extra, seen) : fragment}`;
  return out;
}

/** Authorization, Cookie, Set-Cookie, X-Api-Key and any name with token/secret/key: values hidden. */
export function redactHeaders<H extends Record<string, unknown>>(
  h: H,
  extra: Extra = NONE,
  seen?: Set<string>,
): H {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(h)) {
    out[name] =
      isSecretHeader(name, extra) && value !== undefined && value !== null ? hideValue(value, seen) : value;
  }
  return out as H;
}

/** The value hidden; `seen` collects the hidden strings, so free text can be cleaned of them too. */
function hideValue(v: unknown, seen?: Set<string>): unknown {
  if (typeof v === 'string') {
    if (v === '' || TEMPLATE.test(v)) return v;
    if (seen && !v.includes('{{')) {
      seen.add(v);
      const scheme = AUTH_SCHEME.exec(v);
      if (scheme) seen.add(v.slice(scheme[0].length - 1).trim()); // the credential after `Bearer `
    }
    return REDACTED;
  }
  if (typeof v === 'number' || typeof v === 'bigint') return REDACTED;
  if (Array.isArray(v)) return v.map((x) => hideValue(x, seen));
  if (isPlainObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = hideValue(x, seen);
    return o;
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A free-standing string: URLs, `Bearer …`, bare JWTs and `Name: value` header lines. */
function redactString(s: string, extra: Extra = NONE, seen?: Set<string>): string {
  if (AUTH_SCHEME.test(s) || JWT.test(s)) return hideValue(s, seen) as string;
  if (SCHEME_URL.test(s) || (s.includes('?') && s.includes('='))) return redactUrl(s, extra, seen);
  const header = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(s);
  if (header && header[2] !== '' && isSecretHeader(header[1], extra)) {
    hideValue(header[2], seen);
    return `${header[1]}: ${REDACTED}`;
  }
  return s;
}

/**
 * A deep copy of a config object with secrets hidden: values under secret-like keys (any depth,
 * which covers header maps), URLs and credential-looking strings anywhere.
 */
export function redactConfig<T>(obj: T, extra: Extra = NONE, hidden?: Set<string>): T {
  return walk(obj, new WeakSet(), extra, hidden) as T;
}

/** Keys whose values are kept as they are: a capture maps a variable to a JSON path, not to a value. */
const KEEP = new Set(['capture']);

function walk(v: unknown, seen: WeakSet<object>, extra: Extra, hidden?: Set<string>): unknown {
  if (typeof v === 'string') return redactString(v, extra, hidden);
  if (Array.isArray(v)) {
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    const out = v.map((x) => walk(x, seen, extra, hidden));
    seen.delete(v);
    return out;
  }
  if (!isPlainObject(v)) return v;
  if (seen.has(v)) return '[circular]';
  seen.add(v);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (KEEP.has(k)) out[k] = x;
    else if (isSecretName(k, extra)) out[k] = hideValue(x, hidden);
    else if (HEADER_MAP.test(k) && isPlainObject(x))
      out[k] = walk(redactHeaders(x, extra, hidden), seen, extra, hidden);
    else out[k] = walk(x, seen, extra, hidden);
  }
  seen.delete(v);
  return out;
}

// ------------------------------------------------------------------ one redactor per run

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;
const JWT_IN_TEXT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const AUTH_IN_TEXT = /\b(bearer|basic|token|digest)\s+[^\s"',;]{4,}/gi;
/** Hidden values shorter than this are not searched for in free text (they would hit anything). */
const MIN_KNOWN = 4;

/**
 * Everything a run shows passes through one Redactor: the configuration, every step's spec
 * (scenario headers, URLs, variables, plan settings in `ext`), error samples, close reasons and
 * findings. It hides the built-in secret names and the names given with `--redact`, and remembers
 * the values it hid, so the same secret is hidden wherever else it turns up as text.
 */
export class Redactor {
  private readonly extra: Extra;
  private readonly hidden = new Set<string>();

  constructor(names: readonly string[] = []) {
    this.extra = new Set(names.map((n) => n.toLowerCase()));
  }

  url(u: string): string {
    return this.text(redactUrl(u, this.extra, this.hidden));
  }

  config<T>(obj: T): T {
    return redactConfig(obj, this.extra, this.hidden);
  }

  spec(s: StepSpec): StepSpec {
    return this.config(s);
  }

  /** Free text (an error detail, a close reason): URLs, credentials after an auth scheme, JWTs, known values. */
  text(s: string): string {
    if (s.length === 0) return s;
    let out = s;
    for (const v of this.hidden)
      if (v.length >= MIN_KNOWN && out.includes(v)) out = out.split(v).join(REDACTED);
    return out
      .replace(URL_IN_TEXT, (u) => redactUrl(u, this.extra))
      .replace(JWT_IN_TEXT, REDACTED)
      .replace(AUTH_IN_TEXT, (_m, scheme: string) => `${scheme} ${REDACTED}`);
  }

  info(i: RunInfo): RunInfo {
    return { ...i, target: this.text(i.target), config: this.config(i.config) };
  }

  result(r: StepResult): StepResult {
    return {
      ...r,
      spec: this.spec(r.spec),
      errorSamples: r.errorSamples.map((e) => ({ ...e, detail: this.text(e.detail) })),
      ...(r.earlyCloses
        ? { earlyCloses: r.earlyCloses.map((c) => ({ ...c, reason: this.text(c.reason) })) }
        : {}),
      ...(r.ext ? { ext: this.strings(r.ext) } : {}),
    };
  }

  run<V>(r: RunResult<V>, steps: StepResult[]): RunResult<V> {
    return { ...r, info: this.info(r.info), steps, diagnosis: r.diagnosis.map((d) => this.text(d)) };
  }

  /** Every string of a findings object through text(); keys and numbers as they are. */
  private strings<T>(v: T): T {
    if (typeof v === 'string') return this.text(v) as T;
    if (Array.isArray(v)) return v.map((x) => this.strings(x) as unknown) as T;
    if (!isPlainObject(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = this.strings(x);
    return out as T;
  }
}
