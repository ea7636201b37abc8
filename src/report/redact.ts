// Secrets never reach a result file or a log: tokens in query strings, passwords in URLs,
// credentials in headers and in config keys named like secrets. Templates (`{{token}}`) are kept:
// they name a variable, not its value.

export const REDACTED = '[redacted]';

/** Query parameters and config keys whose value is a credential. */
const SECRET_NAME =
  /token|secret|passw|pwd|auth|api[-_]?key|key$|jwt|signature|^sig$|credential|cookie|session[-_]?id/i;
/** Header names: the list above, plus anything containing `key` (X-Api-Key, X-Key-Id, …). */
const SECRET_HEADER = /token|secret|passw|pwd|auth|key|jwt|signature|credential|cookie/i;
const JWT = /^eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*$/;
const HEADER_MAP = /^(headers?|httpHeaders)$/i;
const TEMPLATE = /^\{\{[^{}]*\}\}$/;
const SCHEME_URL = /^[a-z][a-z0-9+.-]*:\/\//i;
const AUTH_SCHEME = /^(bearer|basic|token|digest|negotiate)\s+\S/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADER.test(name);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function redactParams(params: string): string {
  return params
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq < 0) return part;
      const value = part.slice(eq + 1);
      if (value === '' || TEMPLATE.test(decode(value))) return part;
      const name = decode(part.slice(0, eq));
      return isSecretName(name) || JWT.test(decode(value)) ? `${part.slice(0, eq)}=${REDACTED}` : part;
    })
    .join('&');
}

/**
 * `wss://bob:pw@host/ws?token=abc&room=1` → `wss://bob@host/ws?token=[redacted]&room=1`.
 * Works on the text, so the rest of the URL keeps its exact spelling (and invalid URLs are still
 * cleaned).
 */
export function redactUrl(u: string): string {
  const hashAt = u.indexOf('#');
  const beforeHash = hashAt >= 0 ? u.slice(0, hashAt) : u;
  const fragment = hashAt >= 0 ? u.slice(hashAt + 1) : null;
  const qAt = beforeHash.indexOf('?');
  let base = qAt >= 0 ? beforeHash.slice(0, qAt) : beforeHash;
  const query = qAt >= 0 ? beforeHash.slice(qAt + 1) : null;
  base = base.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    return user ? `${scheme}${user}@` : scheme;
  });
  // A JWT as a path segment (`/ws/eyJ…`) is a credential too.
  base = base
    .split('/')
    .map((seg) => (JWT.test(seg) ? REDACTED : seg))
    .join('/');
  let out = base;
  if (query !== null) out += `?${redactParams(query)}`;
  if (fragment !== null) out += `#${fragment.includes('=') ? redactParams(fragment) : fragment}`;
  return out;
}

/** Authorization, Cookie, Set-Cookie, X-Api-Key and any name with token/secret/key: values hidden. */
export function redactHeaders<H extends Record<string, unknown>>(h: H): H {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(h)) {
    out[name] = isSecretHeader(name) && value !== undefined && value !== null ? hideValue(value) : value;
  }
  return out as H;
}

function hideValue(v: unknown): unknown {
  if (typeof v === 'string') return v === '' || TEMPLATE.test(v) ? v : REDACTED;
  if (typeof v === 'number' || typeof v === 'bigint') return REDACTED;
  if (Array.isArray(v)) return v.map(hideValue);
  if (isPlainObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = hideValue(x);
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
function redactString(s: string): string {
  if (AUTH_SCHEME.test(s) || JWT.test(s)) return REDACTED;
  if (SCHEME_URL.test(s) || (s.includes('?') && s.includes('='))) return redactUrl(s);
  const header = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(s);
  if (header && header[2] !== '' && isSecretHeader(header[1])) return `${header[1]}: ${REDACTED}`;
  return s;
}

/**
 * A deep copy of a config object with secrets hidden: values under secret-like keys (any depth,
 * which covers header maps), URLs and credential-looking strings anywhere.
 */
export function redactConfig<T>(obj: T): T {
  return walk(obj, new WeakSet()) as T;
}

function walk(v: unknown, seen: WeakSet<object>): unknown {
  if (typeof v === 'string') return redactString(v);
  if (Array.isArray(v)) {
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    const out = v.map((x) => walk(x, seen));
    seen.delete(v);
    return out;
  }
  if (!isPlainObject(v)) return v;
  if (seen.has(v)) return '[circular]';
  seen.add(v);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (isSecretName(k)) out[k] = hideValue(x);
    else if (HEADER_MAP.test(k) && isPlainObject(x)) out[k] = walk(redactHeaders(x), seen);
    else out[k] = walk(x, seen);
  }
  seen.delete(v);
  return out;
}
