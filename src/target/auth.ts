import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Signed, expiring bearer tokens: base64url(JSON {sub, exp}) "." base64url(HMAC-SHA256(payload)).
// Stateless, so any process holding the same secret (cluster workers, several instances) accepts
// any other's tokens. The signature is compared in constant time against the canonical encoding.

const SIG_CHARS = 43; // base64url of 32 bytes, unpadded
const MAX_TOKEN = 1024;
const USER_ID = /^[\w.@:+-]{1,128}$/;

export interface IssuedToken {
  token: string;
  /** Seconds until the token expires. */
  expiresIn: number;
  userId: string;
}

export class TokenAuth {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly ttlMs: number,
  ) {
    this.key = Buffer.from(secret, 'utf8');
  }

  issue(userId: string, nowMs = Date.now()): IssuedToken {
    const exp = Math.floor((nowMs + this.ttlMs) / 1000);
    const payload = Buffer.from(JSON.stringify({ sub: userId, exp })).toString('base64url');
    return { token: `${payload}.${this.sign(payload)}`, expiresIn: Math.round(this.ttlMs / 1000), userId };
  }

  /** The token's subject, or null when it is malformed, forged or expired. */
  verify(token: string, nowMs = Date.now()): string | null {
    if (token.length > MAX_TOKEN) return null;
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length - dot - 1 !== SIG_CHARS) return null;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'latin1');
    const expected = Buffer.from(this.sign(payload), 'latin1');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    const { sub, exp } = (claims ?? {}) as { sub?: unknown; exp?: unknown };
    if (typeof sub !== 'string' || typeof exp !== 'number') return null;
    return exp * 1000 > nowMs ? sub : null;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/** A user id from a request, or an error message saying what is wrong with it. */
export function checkUserId(v: unknown): { ok: true; userId: string } | { ok: false; message: string } {
  if (v === undefined || v === null)
    return { ok: true, userId: `user-${randomBytes(6).toString('base64url')}` };
  if (typeof v !== 'string' || !USER_ID.test(v)) {
    return { ok: false, message: 'userId must be 1-128 characters of letters, digits and _ . @ : + -' };
  }
  return { ok: true, userId: v };
}

/** The token in `Authorization: Bearer <token>`, or undefined. */
export function bearer(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8) return undefined;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const t = header.slice(7).trim();
  return t.length > 0 ? t : undefined;
}
