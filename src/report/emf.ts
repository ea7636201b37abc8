import type { IntervalSnapshot, RunInfo, StepResult, StepSpec } from '../contract.js';
import { UserError } from '../errors.js';
import type { Out, Reporter } from './reporter.js';

// CloudWatch Embedded Metric Format: one JSON object per line; `_aws` tells CloudWatch Logs which
// root members are metrics and which are dimensions. Every dimension must be a root member with a
// string value; metric values are numbers; at most 30 dimensions per set and 100 metrics.

export interface EmfOptions {
  namespace?: string;
  /** Dimension name → value, e.g. { Command: 'capacity', Service: 'chat' }. `Step` is added. */
  dimensions?: Record<string, string>;
  /** Also one line per interval snapshot with the open-connection gauge (sustained tests). */
  intervals?: boolean;
}

export type EmfUnit = 'Count' | 'Percent' | 'Milliseconds';

const MAX_DIMENSIONS = 30;
/** Root members this reporter writes besides the dimensions; a dimension may not reuse them. */
const RESERVED = new Set([
  '_aws',
  'Step',
  'Sessions',
  'Successful',
  'SuccessRate',
  'Failed',
  'ConnectP50',
  'ConnectP95',
  'ConnectP99',
  'RunId',
  'DurationMs',
  'Aborted',
  'Failures',
  'ActiveConnections',
  'ClosedEarly',
  'Heartbeats',
]);

/** One EMF line per step: sessions, successes, failures by class and connect-time percentiles. */
export class EmfReporter implements Reporter {
  private readonly namespace: string;
  private readonly dimensions: Record<string, string>;
  private runId = '';
  private readonly intervals: boolean;
  private sessions = 0;

  constructor(
    private readonly out: Out,
    o: EmfOptions = {},
  ) {
    this.namespace = o.namespace ?? 'holdline';
    this.dimensions = { ...(o.dimensions ?? {}) };
    this.intervals = o.intervals === true;
    const names = Object.keys(this.dimensions);
    if (names.length >= MAX_DIMENSIONS) {
      throw new UserError(`CloudWatch EMF allows at most ${MAX_DIMENSIONS} dimensions (Step included)`);
    }
    for (const n of names) {
      if (RESERVED.has(n)) throw new UserError(`EMF dimension name ${n} is taken by holdline's own output`);
    }
  }

  runStart(info: RunInfo): void {
    this.runId = info.id;
  }

  stepStart(spec: StepSpec): void {
    this.sessions = spec.sessions;
  }

  interval(snap: IntervalSnapshot): void {
    if (!this.intervals) return;
    this.out.write(
      JSON.stringify(emfIntervalRecord(snap, this.sessions, this.namespace, this.dimensions)) + '\n',
    );
  }

  stepEnd(r: StepResult): void {
    this.out.write(JSON.stringify(emfStepRecord(r, this.namespace, this.dimensions, this.runId)) + '\n');
  }
}

/** The EMF document for one step (exported for tests and for other sinks). */
export function emfStepRecord(
  r: StepResult,
  namespace: string,
  dimensions: Record<string, string>,
  runId = '',
): Record<string, unknown> {
  const dims: Record<string, string> = { ...dimensions, Step: String(r.spec.index) };
  const metrics: { Name: string; Unit: EmfUnit }[] = [];
  const values: Record<string, number> = {};
  const put = (name: string, unit: EmfUnit, value: number): void => {
    metrics.push({ Name: name, Unit: unit });
    values[name] = value;
  };
  put('Sessions', 'Count', r.sessions);
  put('Successful', 'Count', r.successful);
  put('SuccessRate', 'Percent', r.sessions > 0 ? round3((r.successful / r.sessions) * 100) : 0);
  put('Failed', 'Count', r.failed);
  const connect = r.phases.connect;
  if (connect && connect.count > 0) {
    put('ConnectP50', 'Milliseconds', connect.p50);
    put('ConnectP95', 'Milliseconds', connect.p95);
    put('ConnectP99', 'Milliseconds', connect.p99);
  }
  return {
    _aws: {
      Timestamp: r.startedAt + r.durationMs,
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [Object.keys(dims)], Metrics: metrics }],
    },
    ...dims,
    ...values,
    // Plain properties: searchable in CloudWatch Logs Insights, not metrics.
    ...(runId ? { RunId: runId } : {}),
    DurationMs: r.durationMs,
    Aborted: r.aborted,
    Failures: { ...r.failures },
  };
}

/**
 * The open-connection gauge of one interval, so CloudWatch graphs of a sustained test line up with
 * the load balancer's ActiveConnectionCount. `Connections` (the step's size) is a dimension, so
 * points of a ladder are separate series.
 */
export function emfIntervalRecord(
  s: IntervalSnapshot,
  sessions: number,
  namespace: string,
  dimensions: Record<string, string>,
): Record<string, unknown> {
  const dims: Record<string, string> = { ...dimensions, Step: String(s.step) };
  return {
    _aws: {
      Timestamp: s.t1,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(dims)],
          Metrics: [
            { Name: 'ActiveConnections', Unit: 'Count' },
            { Name: 'ClosedEarly', Unit: 'Count' },
            { Name: 'Heartbeats', Unit: 'Count' },
          ],
        },
      ],
    },
    ...dims,
    ActiveConnections: s.active,
    ClosedEarly: s.counters.closedEarly,
    Heartbeats: s.counters.heartbeats,
    Planned: sessions,
  };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
