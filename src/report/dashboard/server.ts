// `--dashboard [PORT]`: a page on loopback that follows the run live over Server-Sent Events,
// for any number of open tabs; it closes when the run ends.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { IntervalSnapshot, RunInfo, RunResult, StepResult, StepSpec } from '../../contract.js';
import type { Out, Reporter } from '../reporter.js';
import { dashboardPage } from './page.js';

export class DashboardReporter implements Reporter {
  private readonly clients = new Set<ServerResponse>();
  /** Every event so far: a tab opened late draws the whole run. */
  private readonly backlog: string[] = [];
  private server: Server | null = null;
  private page = '';
  private startedAt = 0;
  private listening: Promise<void> | null = null;

  constructor(
    private readonly port: number,
    private readonly err: Out,
  ) {}

  runStart(info: RunInfo): void {
    this.startedAt = info.startedAt;
    this.page = dashboardPage(`holdline ${info.command} · ${info.target}`);
    const server = createServer((req, res) => {
      if (req.url === '/' || req.url === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(this.page);
      } else if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        for (const e of this.backlog) res.write(e);
        this.clients.add(res);
        res.on('close', () => this.clients.delete(res));
      } else {
        res.writeHead(404).end();
      }
    });
    this.server = server;
    this.listening = new Promise((resolve) => {
      server.on('error', (e) => {
        this.err.write(`dashboard: cannot listen on 127.0.0.1:${this.port}: ${e.message}\n`);
        this.server = null;
        resolve();
      });
      server.listen(this.port, '127.0.0.1', () => {
        const a = server.address();
        this.err.write(`dashboard: http://127.0.0.1:${typeof a === 'object' && a ? a.port : this.port}/\n`);
        resolve();
      });
    });
  }

  stepStart(spec: StepSpec): void {
    this.send('step', { text: `step ${spec.index + 1}: ${spec.sessions} sessions` });
  }

  interval(s: IntervalSnapshot): void {
    this.send('interval', {
      t: Math.round((s.t1 - this.startedAt) / 100) / 10,
      worker: s.worker,
      active: s.active,
      started: s.counters.started,
      failed: s.counters.failed,
      sent: s.counters.msgsSent,
      recv: s.counters.msgsRecv,
      cpuPct: s.health.cpuPct,
    });
  }

  stepEnd(r: StepResult): void {
    this.send('step', { text: `step ${r.spec.index + 1} done: ${r.successful} of ${r.sessions} successful` });
  }

  async runEnd(result: RunResult): Promise<void> {
    await this.listening;
    this.send('end', { exitCode: result.exitCode });
    for (const c of this.clients) c.end();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private send(event: string, data: unknown): void {
    const e = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    this.backlog.push(e);
    for (const c of this.clients) c.write(e);
  }
}
