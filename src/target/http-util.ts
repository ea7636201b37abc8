import type { IncomingMessage, ServerResponse } from 'node:http';

// JSON in and out for the HTTP API, with a hard cap on request bodies.

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

/**
 * The request body parsed as JSON; undefined when there is none. Throws HttpError 413 as soon as
 * the body passes `limit` bytes (declared or received) and 400 when it is not JSON. The rest of
 * an oversized body is read and discarded so the response is not lost to a reset.
 */
export function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        req.removeListener('data', onData);
        req.removeListener('end', onEnd);
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      const text = Buffer.concat(chunks, size).toString('utf8');
      if (text.trim().length === 0) {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new HttpError(400, 'bad_json', `request body is not valid JSON: ${(err as Error).message}`));
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
