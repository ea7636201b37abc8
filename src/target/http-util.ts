import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_JSON_DEPTH, nestedDeeper } from './json-bounds.js';

// JSON in and out for the HTTP API, with a hard cap on request bodies (bytes, and nesting).

/** A request the target refuses: becomes `{"error": code, "message": ...}` with this status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendErrorJson(res: ServerResponse, e: HttpError): void {
  sendJson(res, e.status, { error: e.code, message: e.message }, e.headers);
}

function tooLarge(limit: number): HttpError {
  // Connection: close, so whatever the client is still sending is not parsed as a next request.
  return new HttpError(413, 'body_too_large', `request body over the ${limit}-byte limit`, {
    Connection: 'close',
  });
}

/** Initial room for a body of unknown length; it doubles as needed, up to the limit. */
const FIRST_ROOM = 16 * 1024;

/**
 * The request body parsed as JSON; undefined when there is none. Throws HttpError 413 as soon as
 * the body passes `limit` bytes (declared or received) and 400 when it is not JSON or nests
 * deeper than MAX_JSON_DEPTH. Chunks are copied into one buffer as they come, so a body of
 * 1-byte chunks costs its bytes, not a Buffer per byte. The rest of an oversized body is read
 * and discarded so the response is not lost to a reset.
 */
export function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = req.headers['content-length'];
  const declaredSize = declared === undefined ? 0 : Number(declared);
  if (declaredSize > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    let buf: Buffer | null = null;
    let size = 0;
    const onData = (chunk: Buffer): void => {
      const need = size + chunk.length;
      if (need > limit) {
        buf = null;
        req.removeListener('data', onData);
        req.removeListener('end', onEnd);
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      if (buf === null || need > buf.length) {
        const room = Math.min(
          limit,
          Math.max(need, buf === null ? declaredSize || FIRST_ROOM : buf.length * 2),
        );
        const next = Buffer.allocUnsafe(room);
        if (buf !== null) buf.copy(next, 0, 0, size);
        buf = next;
      }
      chunk.copy(buf, size);
      size = need;
    };
    const onEnd = (): void => {
      const body = buf === null ? Buffer.alloc(0) : buf.subarray(0, size);
      buf = null;
      const text = body.toString('utf8');
      if (text.trim().length === 0) {
        resolve(undefined);
        return;
      }
      if (nestedDeeper(body)) {
        reject(new HttpError(400, 'bad_json', `request body nests deeper than ${MAX_JSON_DEPTH} levels`));
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch {
        // The parser's message quotes the body: say where it is wrong, not what it says.
        reject(new HttpError(400, 'bad_json', 'request body is not valid JSON'));
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/** The body as a JSON object (or {} when empty); 400 for any other JSON value. */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const body = await readJson(req, limit);
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'bad_request', 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
