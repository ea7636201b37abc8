import { Agent } from 'undici';
import { classifyErrno } from '../transports/classify.js';
import {
  compile,
  compileDeep,
  type DeepTemplate,
  type Template,
  type TemplateEnv,
} from '../scenario/template.js';
import type { RequestSpec } from './load-model.js';

// HTTP beside the sockets: group creation, the API load of `--http-rate`, the target's health.
// One undici Agent per use; deadlines are undici's own (headers and body timeouts on its shared
// timers), so no timer is made per request.

export interface Rendered {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** A request compiled once: URL, headers and body are templates. */
export class RequestTemplate {
  readonly label: string;
  private readonly url: Template;
  private readonly headers: [string, Template][];
  private readonly body: Template | DeepTemplate | null;
  private readonly text: boolean;
  private readonly contentType: string | null;

  constructor(
    readonly spec: RequestSpec,
    private readonly env: TemplateEnv,
  ) {
    this.label = `${spec.method.toUpperCase()} ${spec.url}`;
    this.url = compile(spec.url, { env });
    this.headers = Object.entries(spec.headers ?? {}).map(([k, v]) => [k, compile(v, { env })]);
    this.text = typeof spec.body === 'string';
    this.body =
      spec.body === undefined
        ? null
        : typeof spec.body === 'string'
          ? compile(spec.body, { env })
          : compileDeep(spec.body, { env });
    const named = Object.keys(spec.headers ?? {}).some((k) => k.toLowerCase() === 'content-type');
    this.contentType =
      this.body === null || named ? null : this.text ? 'text/plain; charset=utf-8' : 'application/json';
  }

  /** Throws TemplateError (unknown variable) or TypeError (not a URL). */
  render(vars: Readonly<Record<string, string>>): Rendered {
    const u = new URL(this.url.render(vars, this.env));
    const headers: Record<string, string> = {};
    for (const [k, t] of this.headers) headers[k] = t.render(vars, this.env);
    let body: string | undefined;
    if (this.body !== null) {
      const v = this.body.render(vars, this.env);
      body = typeof v === 'string' ? v : JSON.stringify(v);
      if (this.contentType) headers['content-type'] = this.contentType;
    }
    return {
      origin: u.origin,
      path: u.pathname + u.search,
      method: this.spec.method.toUpperCase(),
      headers,
      body,
    };
  }
}

export interface Reply {
  /** HTTP status, or 0 when there was no response. */
  status: number;
  /** The response text when asked for (and a response came). */
  text: string | null;
  /** `timeout`, `refused`, `reset`, … when status is 0. */
  error: string;
  detail: string;
}

const MAX_BODY = 1024 * 1024;

export class HttpCaller {
  private readonly agent: Agent;
  private closed = false;

  constructor(o: { connections: number; timeoutMs: number }) {
    this.agent = new Agent({
      connections: o.connections,
      connect: { timeout: o.timeoutMs },
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      maxResponseSize: MAX_BODY,
    });
  }

  /** Never throws for what the server or the network does. */
  async call(r: Rendered, wantText: boolean): Promise<Reply> {
    if (this.closed) return { status: 0, text: null, error: 'aborted', detail: 'closed' };
    try {
      const res = await this.agent.request({
        origin: r.origin,
        path: r.path,
        method: r.method as 'GET',
        headers: r.headers,
        body: r.body,
      });
      let text: string | null = null;
      if (wantText || res.statusCode >= 400) text = await res.body.text();
      else await res.body.dump();
      return { status: res.statusCode, text, error: '', detail: '' };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return { status: 0, text: null, error: classifyErrno(err), detail: e.code ?? e.message ?? String(err) };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.agent.destroy();
  }
}

/** `2xx`, `4xx`, … for a status; the error class when there was no response. */
export function statusClass(r: Reply): string {
  return r.status > 0 ? `${Math.floor(r.status / 100)}xx` : r.error;
}

/** `: first 120 characters of the body` for error details. */
export function snippet(text: string | null): string {
  if (!text) return '';
  const t = text.replace(/\s+/g, ' ').trim();
  return t ? `: ${t.length > 120 ? `${t.slice(0, 120)}…` : t}` : '';
}
