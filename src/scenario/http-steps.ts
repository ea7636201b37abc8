import { Agent } from 'undici';
import { REDACTED, type HttpStepSpec } from '../contract.js';
import { classifyErrno } from '../transports/classify.js';
import { compilePath, type JsonPath } from './json-path.js';
import { compile, compileDeep, type DeepTemplate, type Template, type TemplateEnv } from './template.js';

// A session's HTTP steps (get a token, create a chat, …) over one undici Agent per engine: keep-alive,
// at most `connections` sockets per origin, so thousands of sessions share a few sockets. Every
// server misbehaviour comes back as a value with a stable code, `step_<name>_<status|class>`.

export interface HttpStepsOptions {
  env: TemplateEnv;
  /** Deadline of one step (connect, queueing, headers and body), unless the step sets its own. */
  timeoutMs: number;
  /** Sockets per origin (default 64). */
  connections?: number;
  localAddress?: string;
}

export type HttpStepsResult =
  { ok: true; vars: Record<string, string> } | { ok: false; code: string; detail: string };

interface CompiledStep {
  name: string;
  method: string;
  label: string; // `POST {{baseUrl}}/auth/token`: the template, so details carry no token
  url: Template;
  headers: [string, Template][];
  body: DeepTemplate | null;
  /** The JSON text of a body without placeholders, serialised once. */
  fixedBody: string | null;
  contentType: string | null; // added when the step sets none
  expect: number[] | null; // null: any 2xx
  captures: [string, JsonPath][];
  timeoutMs: number;
}

/** One request in flight: what the deadline timer and the abort listener reach. */
interface InFlight {
  ac: AbortController;
  ext: AbortSignal | undefined;
  timedOut: boolean;
}

const DEFAULT_CONNECTIONS = 64;
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const SNIPPET = 120;

export class HttpSteps {
  private readonly steps: CompiledStep[];
  private readonly agent: Agent;
  private readonly env: TemplateEnv;
  private readonly inflight = new Set<InFlight>();
  private readonly watched = new WeakSet<AbortSignal>();
  /** Variables the steps capture: their values are hidden in failure details. */
  private readonly captured: string[];
  private closed = false;

  constructor(steps: HttpStepSpec[], opts: HttpStepsOptions) {
    this.env = opts.env;
    this.steps = steps.map((s) => compileStep(s, opts));
    this.captured = this.steps.flatMap((s) => s.captures.map(([name]) => name));
    const longest = Math.max(opts.timeoutMs, ...this.steps.map((s) => s.timeoutMs));
    // undici's own timeouts are a backstop; the per-step deadline below is the one that counts.
    this.agent = new Agent({
      connections: opts.connections ?? DEFAULT_CONNECTIONS,
      localAddress: opts.localAddress,
      connect: { timeout: longest },
      headersTimeout: longest,
      bodyTimeout: longest,
      maxResponseSize: MAX_RESPONSE_BYTES,
    });
  }

  /**
   * Runs every step in order with `vars` (not modified), returning them plus the captures. Each
   * successful step's duration (µs, queueing included) goes to `onTiming`. Never throws for what
   * a server or the network does.
   */
  async run(
    vars: Record<string, string>,
    onTiming: (name: string, us: number) => void,
    signal?: AbortSignal,
  ): Promise<HttpStepsResult> {
    if (signal && !this.watched.has(signal)) {
      // One listener per signal, not per request: an engine shares one signal over all sessions.
      this.watched.add(signal);
      signal.addEventListener('abort', () => this.abortAll(signal), { once: true });
    }
    let cur = vars;
    for (const step of this.steps) {
      if (this.closed || signal?.aborted)
        return { ok: false, code: 'aborted', detail: `before step ${step.name}` };
      const r = await this.runStep(step, cur, onTiming, signal);
      if (!r.ok) return r;
      cur = r.vars;
    }
    return { ok: true, vars: cur === vars ? { ...vars } : cur };
  }

  /** Aborts what is in flight and closes every socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.inflight) r.ac.abort();
    await this.agent.destroy();
  }

  private abortAll(signal: AbortSignal): void {
    for (const r of this.inflight) if (r.ext === signal) r.ac.abort();
  }

  private async runStep(
    st: CompiledStep,
    vars: Record<string, string>,
    onTiming: (name: string, us: number) => void,
    signal: AbortSignal | undefined,
  ): Promise<HttpStepsResult> {
    let url: URL;
    const headers: Record<string, string> = {};
    let body: string | undefined;
    try {
      const raw = st.url.render(vars, this.env);
      try {
        url = new URL(raw);
      } catch {
        return fail(st, 'url', `${st.label}: not a URL after templating`);
      }
      for (const [k, t] of st.headers) headers[k] = t.render(vars, this.env);
      if (st.fixedBody !== null) body = st.fixedBody;
      else if (st.body) body = serialise(st.body.render(vars, this.env));
    } catch (err) {
      return fail(st, 'template', `${st.label}: ${messageOf(err)}`);
    }
    if (body !== undefined && st.contentType) headers['content-type'] = st.contentType;

    const req: InFlight = { ac: new AbortController(), ext: signal, timedOut: false };
    this.inflight.add(req);
    const timer = setTimeout(onDeadline, st.timeoutMs, req);
    const t0 = performance.now();
    try {
      const res = await this.agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: st.method,
        headers,
        body,
        signal: req.ac.signal,
      });
      const ok = st.expect
        ? st.expect.includes(res.statusCode)
        : res.statusCode >= 200 && res.statusCode < 300;
      if (!ok) {
        const text = await res.body.text();
        const want = st.expect ? st.expect.join(' or ') : '2xx';
        return fail(
          st,
          String(res.statusCode),
          `${st.label} answered ${res.statusCode}, expected ${want}${snippet(hideCaptured(text, vars, this.captured))}`,
        );
      }
      if (st.captures.length === 0) {
        await res.body.dump();
        onTiming(st.name, Math.round((performance.now() - t0) * 1000));
        return { ok: true, vars };
      }
      const text = await res.body.text();
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return fail(
          st,
          'json',
          `${st.label}: response is not JSON${snippet(hideCaptured(text, vars, this.captured))}`,
        );
      }
      const out = { ...vars };
      for (const [name, path] of st.captures) {
        const v = path.get(doc);
        if (v === undefined || v === null) {
          return fail(
            st,
            'capture',
            `${st.label}: no value at "${path.source}" for {{${name}}} (${shapeOf(doc)})`,
          );
        }
        out[name] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
      onTiming(st.name, Math.round((performance.now() - t0) * 1000));
      return { ok: true, vars: out };
    } catch (err) {
      if (req.timedOut)
        return fail(st, 'timeout', `${st.label}: no complete answer within ${st.timeoutMs}ms`);
      if (req.ac.signal.aborted) return { ok: false, code: 'aborted', detail: `step ${st.name} stopped` };
      return fail(st, classifyErrno(err), `${st.label}: ${errCode(err) ?? messageOf(err)}`);
    } finally {
      clearTimeout(timer);
      this.inflight.delete(req);
    }
  }
}

function onDeadline(req: InFlight): void {
  req.timedOut = true;
  req.ac.abort();
}

function compileStep(s: HttpStepSpec, opts: HttpStepsOptions): CompiledStep {
  const env = { env: opts.env };
  const headerKeys = Object.keys(s.headers ?? {}).map((k) => k.toLowerCase());
  const body = s.body === undefined ? null : compileDeep(s.body, env);
  const raw = typeof s.body === 'string'; // a string body is sent as text, anything else as JSON
  return {
    name: s.name,
    method: s.method.toUpperCase(),
    label: `${s.method.toUpperCase()} ${s.url}`,
    url: compile(s.url, env),
    headers: Object.entries(s.headers ?? {}).map(([k, v]) => [k, compile(v, env)]),
    body,
    fixedBody: body && body.constant ? serialise(s.body) : null,
    contentType:
      body === null || headerKeys.includes('content-type')
        ? null
        : raw
          ? 'text/plain; charset=utf-8'
          : 'application/json',
    expect: s.expectStatus && s.expectStatus.length > 0 ? s.expectStatus : null,
    captures: Object.entries(s.capture ?? {}).map(([k, p]) => [k, compilePath(p)]),
    timeoutMs: s.timeoutMs ?? opts.timeoutMs,
  };
}

/** Captured values shorter than this are left in details: they would hit anything (`1`, `ok`). */
const MIN_HIDDEN = 4;

/**
 * A response quoted in a failure detail, without the values this session captured so far (tokens,
 * ids): a later step's answer may echo them (`no route /me/<token>`), and details reach results
 * and logs. Done before the quote is cut, so no prefix of a token survives either.
 */
function hideCaptured(text: string, vars: Record<string, string>, captured: readonly string[]): string {
  let out = text;
  for (const name of captured) {
    const v = vars[name];
    if (v === undefined || v.length < MIN_HIDDEN || !out.includes(v)) continue;
    out = out.split(v).join(REDACTED);
  }
  return out;
}

function serialise(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function fail(st: CompiledStep, what: string, detail: string): HttpStepsResult {
  return { ok: false, code: `step_${st.name}_${what}`, detail };
}

function snippet(text: string): string {
  const t = text.trim();
  if (t.length === 0) return '';
  return `: ${t.length > SNIPPET ? `${t.slice(0, SNIPPET)}…` : t}`;
}

/** What a response holds, without its values (they may be secrets): `response keys: a, b`. */
function shapeOf(doc: unknown): string {
  if (Array.isArray(doc)) return `response is a list of ${doc.length}`;
  if (doc === null || typeof doc !== 'object') return `response is ${doc === null ? 'null' : typeof doc}`;
  const keys = Object.keys(doc);
  const shown = keys.slice(0, 10).join(', ');
  return keys.length === 0 ? 'response is {}' : `response keys: ${shown}${keys.length > 10 ? ', …' : ''}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The errno / undici code to show in a detail, looking through `cause` and AggregateError. */
function errCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') return c;
    const agg = (e as { errors?: unknown[] }).errors;
    e = Array.isArray(agg) && agg.length > 0 ? agg[0] : (e as { cause?: unknown }).cause;
  }
  return undefined;
}
