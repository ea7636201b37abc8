import type { Recorder } from '../metrics/recorder.js';
import type { TemplateEnv } from '../scenario/template.js';
import { HttpCaller, RequestTemplate, snippet, statusClass, type Rendered } from './load-http.js';
import type { ErrorLog } from './load-history.js';
import type { HttpLoadFindings, HttpLoadSpec } from './load-model.js';

// HTTP API load beside the sockets (`--http-rate`): an open model like the messages. Request k of
// this worker is due at t0 + (k·workers + worker) / rate; its response time, in the `http:api`
// histogram, runs from that intended time, so a slow API cannot hide behind queued requests.

const MAX_IN_FLIGHT = 512;

export class ApiLoad {
  private readonly tpl: RequestTemplate;
  private readonly caller: HttpCaller;
  private readonly stepMs: number;
  private readonly offsetMs: number;
  private fixed: Rendered | null = null;
  private t0 = 0;
  private endAt = 0;
  private k = 0;
  inFlight = 0;
  scheduled = 0;
  sent = 0;
  dropped = 0;
  readonly byClass: Record<string, number> = {};

  constructor(
    private readonly spec: HttpLoadSpec,
    worker: number,
    workers: number,
    private readonly vars: Record<string, string>,
    env: TemplateEnv,
    private readonly rec: Recorder,
    private readonly errors: ErrorLog,
  ) {
    this.tpl = new RequestTemplate(spec.request, env);
    this.caller = new HttpCaller({ connections: 64, timeoutMs: spec.timeoutMs });
    this.stepMs = (1000 * workers) / spec.rate;
    this.offsetMs = (1000 * worker) / spec.rate;
  }

  /** Renders once to surface template errors before the run (a constant request is reused). */
  check(vars: Record<string, string>): void {
    const r = this.tpl.render(vars);
    const t = this.spec.request;
    const constant = !`${t.url}${JSON.stringify(t.headers ?? {})}${JSON.stringify(t.body ?? '')}`.includes(
      '{{',
    );
    if (constant) this.fixed = r;
  }

  start(t0: number, endAt: number): number {
    this.t0 = t0 + this.offsetMs;
    this.endAt = endAt;
    return this.t0;
  }

  /** Starts every request due by `now`; returns when the next one is due (Infinity when done). */
  fire(now: number): number {
    for (;;) {
      const due = this.t0 + this.k * this.stepMs;
      if (due >= this.endAt) return Infinity;
      if (due > now) return due;
      this.k++;
      this.scheduled++;
      if (this.inFlight >= MAX_IN_FLIGHT) {
        this.dropped++;
        continue;
      }
      let req: Rendered;
      try {
        req = this.fixed ?? this.tpl.render(this.vars);
      } catch (err) {
        this.dropped++;
        this.errors.add('http_api_template', err instanceof Error ? err.message : String(err));
        continue;
      }
      this.sent++;
      this.inFlight++;
      void this.one(req, due);
    }
  }

  private async one(req: Rendered, intended: number): Promise<void> {
    const r = await this.caller.call(req, false);
    this.inFlight--;
    const cls = statusClass(r);
    this.byClass[cls] = (this.byClass[cls] ?? 0) + 1;
    if (r.status > 0) this.rec.latency('http:api', (performance.now() - intended) * 1000);
    if (r.status === 0 || r.status >= 400) {
      this.errors.add(
        r.status > 0 ? `http_api_${r.status}` : `http_api_${r.error}`,
        `${this.tpl.label} → ${r.status > 0 ? r.status : r.detail}${snippet(r.text)}`,
      );
    }
  }

  findings(): HttpLoadFindings {
    return {
      rate: this.spec.rate,
      request: this.tpl.label,
      scheduled: this.scheduled,
      sent: this.sent,
      dropped: this.dropped,
      // Requests still waiting for an answer when the step ended (a stopped run) keep the sum exact.
      byClass: this.inFlight > 0 ? { ...this.byClass, unfinished: this.inFlight } : { ...this.byClass },
    };
  }

  close(): Promise<void> {
    return this.caller.close();
  }
}
