import { hash } from 'node:crypto';
import { isIP } from 'node:net';
import type { ErrorCode } from '../errors.js';
import { classifyHttpStatus } from './classify.js';

// The opening handshake of RFC 6455 section 4 from the client side: the target from a URL, the
// upgrade request, and the validation of the server's response head.

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The most response-head bytes read before giving up (`protocol`). */
export const MAX_HEAD = 16 * 1024;

/** Where and how to connect for one WebSocket URL. */
export interface WsTarget {
  secure: boolean;
  /** Host to connect to: a name or an IP literal without brackets. */
  host: string;
  port: number;
  /** Value of the Host header: host[:port], IPv6 in brackets, default ports left out. */
  hostHeader: string;
  /** Request target: path and query. */
  path: string;
  /** TLS server name (SNI); undefined for IP literals, which SNI does not allow. */
  servername: string | undefined;
}

/** Parses ws://, wss:// (and http://, https:// as their aliases); throws on anything else. */
export function parseWsUrl(url: string): WsTarget {
  const u = new URL(url);
  let secure: boolean;
  if (u.protocol === 'ws:' || u.protocol === 'http:') secure = false;
  else if (u.protocol === 'wss:' || u.protocol === 'https:') secure = true;
  else throw new Error(`not a WebSocket URL (ws:// or wss://): ${url}`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (!host) throw new Error(`no host in ${url}`);
  return {
    secure,
    host,
    port: u.port ? Number(u.port) : secure ? 443 : 80,
    hostHeader: u.host,
    path: (u.pathname || '/') + u.search,
    servername: secure && isIP(host) === 0 ? host : undefined,
  };
}

const RESERVED = new Set(['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version']);

/**
 * The GET upgrade request. User headers come after the required ones and may replace Host
 * (virtual hosts) but not the handshake headers themselves. Throws on CR/LF in a header.
 */
export function buildUpgradeRequest(
  t: WsTarget,
  key: string,
  headers: Record<string, string> | undefined,
  protocols: readonly string[] | undefined,
): string {
  let host = t.hostHeader;
  let extra = '';
  if (headers) {
    for (const name in headers) {
      const value = headers[name];
      if (/[\r\n:]/.test(name) || /[\r\n]/.test(value))
        throw new Error(`invalid header ${JSON.stringify(name)}`);
      const lower = name.toLowerCase();
      if (lower === 'host') host = value;
      else if (!RESERVED.has(lower)) extra += `${name}: ${value}\r\n`;
    }
  }
  let req =
    `GET ${t.path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (protocols && protocols.length > 0) req += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;
  return req + extra + '\r\n';
}

/** The Sec-WebSocket-Accept a server must answer to `key`. */
export function acceptFor(key: string): string {
  // One-shot: a Hash object per handshake costs several times more, once per connection.
  return hash('sha1', key + GUID, 'base64');
}

/** Status code of an HTTP/1.x status line, or -1 when the line is not one. */
export function parseStatusLine(line: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(line);
  return m ? Number(m[1]) : -1;
}

export type HandshakeResult =
  { ok: true; protocol: string | undefined } | { ok: false; code: ErrorCode; detail: string };

/**
 * Checks a response head (status line and headers, without the blank line) against the
 * request: a non-101 status gives `http_<status>`; a 101 without `Upgrade: websocket`,
 * `Connection: upgrade` and the right accept key, or with a subprotocol or extension that was
 * not offered, gives `protocol`. A server that picks no subprotocol is accepted (RFC 6455 4.1).
 */
export function checkUpgradeResponse(
  head: string,
  key: string,
  protocols: readonly string[] | undefined,
): HandshakeResult {
  const lines = head.split('\r\n');
  const status = parseStatusLine(lines[0]);
  if (status < 0) return bad(`not an HTTP response: ${JSON.stringify(lines[0].slice(0, 80))}`);
  if (status !== 101) return { ok: false, code: classifyHttpStatus(status), detail: lines[0] };
  let upgrade = '';
  let connection = '';
  let accept = '';
  let protocol: string | undefined;
  let extensions: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return bad(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    switch (line.slice(0, colon).trim().toLowerCase()) {
      case 'upgrade':
        upgrade = value;
        break;
      case 'connection':
        connection = connection ? `${connection},${value}` : value;
        break;
      case 'sec-websocket-accept':
        accept = value;
        break;
      case 'sec-websocket-protocol':
        protocol = value;
        break;
      case 'sec-websocket-extensions':
        extensions = value;
        break;
    }
  }
  if (upgrade.toLowerCase() !== 'websocket') return bad(`Upgrade header is ${JSON.stringify(upgrade)}`);
  if (!connection.split(',').some((t) => t.trim().toLowerCase() === 'upgrade')) {
    return bad(`Connection header is ${JSON.stringify(connection)}`);
  }
  if (accept !== acceptFor(key)) return bad('invalid Sec-WebSocket-Accept');
  if (protocol !== undefined && !(protocols ?? []).includes(protocol)) {
    return bad(`server chose a subprotocol that was not offered: ${JSON.stringify(protocol)}`);
  }
  if (extensions !== undefined && extensions !== '') {
    return bad(`server enabled an extension that was not offered: ${JSON.stringify(extensions)}`);
  }
  return { ok: true, protocol };
}

function bad(detail: string): HandshakeResult {
  return { ok: false, code: 'protocol', detail };
}
