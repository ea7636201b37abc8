// The command line a report shows: as typed, with every secret replaced (URLs with tokens,
// credential headers, values of flags named like secrets).
import { isSecretHeader, isSecretName, REDACTED, redactUrl } from './redact.js';

const HEADER_FLAGS = new Set(['-H', '--header', '--publish-header']);

function quote(a: string): string {
  return /^[\w@%+=:,./[\]-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function redactHeader(h: string, extra: ReadonlySet<string>): string {
  const i = h.indexOf(':');
  return i > 0 && isSecretHeader(h.slice(0, i).trim(), extra) ? `${h.slice(0, i)}: ${REDACTED}` : h;
}

/** `holdline capacity wss://h/ws?token=x -H 'Authorization: Bearer y'` → both values redacted. */
export function redactArgv(argv: readonly string[], redactNames: readonly string[] = []): string {
  const extra = new Set(redactNames.map((n) => n.toLowerCase()));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) {
      const flag = a.slice(0, eq);
      const value = a.slice(eq + 1);
      out.push(`${flag}=${redactValue(flag, value, extra)}`);
      continue;
    }
    out.push(a.startsWith('-') ? a : redactUrl(a, extra));
    const next = argv[i + 1];
    if (a.startsWith('-') && next !== undefined && !next.startsWith('-')) {
      out.push(redactValue(a, next, extra));
      i++;
    }
  }
  return ['holdline', ...out].map(quote).join(' ');
}

function redactValue(flag: string, value: string, extra: ReadonlySet<string>): string {
  if (HEADER_FLAGS.has(flag)) return redactHeader(value, extra);
  if (isSecretName(flag.replace(/^-+/, ''), extra)) return REDACTED;
  return redactUrl(value, extra);
}
