// Plain data that crosses layer and process boundaries. Versioned; histograms travel as HDR
// compressed base64 strings so they can be merged anywhere.

export const V = 1 as const;

// ---------------------------------------------------------------- scenario (what one session does)

/** One HTTP request before the connection; its JSON response can be captured into variables. */
export interface HttpStepSpec {
  name: string;
  method: string;
  url: string; // template
  headers?: Record<string, string>; // values are templates
  body?: unknown; // JSON; string leaves are templates
  expectStatus?: number[]; // default: any 2xx
  capture?: Record<string, string>; // var name -> JSON path ("token", "$.data.id", "items[0].id")
  timeoutMs?: number;
}

export interface ExpectSpec {
  contains?: string; // substring of the first message received
  jsonPath?: string; // path into the first message parsed as JSON
  equals?: string | number | boolean | null; // value expected at jsonPath (presence only when absent)
  timeoutMs?: number;
}

export interface ConnectSpec {
  transport: 'ws' | 'sse';
  url: string; // template
  headers?: Record<string, string>;
  protocols?: string[];
  send?: string[]; // first messages, templates
  expect?: ExpectSpec;
}

/** What an open session sends (one message template, on a schedule or in a closed loop). */
export interface SessionMessagesSpec {
  send: string; // template
  everyMs?: number; // open loop: one every interval (absolute schedule from the open)
  startMs?: number; // first one this long after the open (default 0)
  count?: number; // how many (default: until the session ends; 1 without everyMs and await)
  await?: boolean; // closed loop: wait for the reply before sending the next
}

/** A session's own plan once open: its lifetime and the messages it sends. */
export interface SessionSpec {
  durationMs?: number; // each session closes this long after it opened (and counts as successful)
  messages?: SessionMessagesSpec;
}

export interface ScenarioSpec {
  name?: string;
  vars?: Record<string, string>; // constant variables, usable in every template
  http: HttpStepSpec[];
  connect: ConnectSpec;
  session?: SessionSpec;
}

// ---------------------------------------------------------------- steps

export type PlanKind = 'capacity' | 'sustain' | 'load' | 'broadcast' | 'run';

export interface HeartbeatSpec {
  intervalMs: number;
  kind: 'message' | 'ping';
  message?: string; // template (kind=message)
  expectReply?: boolean;
}

/** What a plan asks the fleet to run: one test point. */
export interface StepSpec {
  v: typeof V;
  plan: PlanKind;
  index: number; // 0-based position in the run
  sessions: number;
  connectConcurrency: number; // sessions establishing at once
  connectRate?: number; // sessions started per second (0/undefined: as fast as concurrency allows)
  stepTimeoutMs: number; // deadline for establishing
  holdMs: number; // keep established sessions open this long before measuring
  heartbeat?: HeartbeatSpec;
  scenario: ScenarioSpec;
  scenarioModule?: string; // absolute path of a JS module exporting the scenario (hooks allowed)
  localAddresses?: string[];
  /** Plan-specific settings for the engine extension of this plan (plain data). */
  ext?: Record<string, unknown>;
}

/** One worker's part of a step. */
export interface StepShard {
  spec: StepSpec;
  worker: number;
  workers: number;
  firstSession: number; // global index of this shard's first session
  sessions: number;
}

// ---------------------------------------------------------------- measurements

export const COUNTERS = [
  'started',
  'established',
  'failed',
  'closedEarly', // closed by the peer or the network before the step ended
  'msgsSent',
  'msgsRecv',
  'bytesSent',
  'bytesRecv',
  'heartbeats',
  'msgsUnanswered', // session messages whose reply never came (or that could not be sent)
] as const;
export type CounterName = (typeof COUNTERS)[number];
/** `msgsUnanswered` came later: results written before it lack it (read it as 0). */
export type Counters = Record<Exclude<CounterName, 'msgsUnanswered'>, number> & { msgsUnanswered?: number };

/** Histogram names: `http:<step>`, `connect`, `tls`, `upgrade`, `first_message`, `session`, `heartbeat_rtt`, `message`. */
export type HistName = string;

export interface Health {
  cpuPct: number; // this process, % of one core over the interval
  eldP99Ms: number; // event-loop delay
  eldMaxMs: number;
  rssBytes: number;
  fds: number; // open file descriptors (-1 when unknown)
}

export interface IntervalSnapshot {
  v: typeof V;
  worker: number;
  step: number;
  t0: number; // epoch ms
  t1: number;
  active: number; // sessions open at t1
  pending: number; // sessions still establishing at t1
  counters: Counters;
  failures: Record<string, number>;
  hist: Record<HistName, string>; // HDR compressed base64, microseconds
  health: Health;
}

export interface LatencySummary {
  count: number;
  min: number; // milliseconds
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export interface ErrorSample {
  code: string;
  detail: string;
  count: number;
}

export interface GeneratorCost {
  baseRssBytes?: number; // RSS when the step started: per-session memory is (peak - base) / sessions
  peakRssBytes: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  maxCpuPct: number;
  maxEldMs: number;
  maxFds: number;
  saturated: boolean; // the generator itself was the bottleneck at some point
}

/** A session that was open and closed before the step ended (sustain's main evidence). */
export interface EarlyClose {
  session: number; // global session index
  atMs: number; // since the step started
  ageMs: number; // since this session opened
  idleMs: number; // since this session last sent anything (open counts as sending); when that send came < 1 s before the close, the silence before it
  code: string; // error class: closed_<code>, reset, …
  closeCode: number; // WebSocket close code (1006 when the connection just broke)
  reason: string;
}

/** A finished step, from one worker or merged over many. */
export interface StepResult {
  v: typeof V;
  spec: StepSpec;
  workers: number;
  startedAt: number; // epoch ms
  durationMs: number; // start of the step to the measurement
  sessions: number;
  established: number; // ever reached open
  successful: number; // open and healthy when measured
  failed: number; // sessions - successful
  failures: Record<string, number>; // by error class; sums to `failed`
  counters: Counters;
  hist: Record<HistName, string>;
  phases: Record<HistName, LatencySummary>; // derived from hist
  errorSamples: ErrorSample[];
  generator: GeneratorCost;
  aborted: boolean;
  /** Sessions that completed their HTTP steps, and when the last one did (ms since the step start). */
  setup?: { completed: number; durationMs: number };
  earlyCloses?: EarlyClose[];
  holdMs?: number; // how long the established sessions were held before measuring
  /** Plan-specific findings (broadcast receipts, chat messaging), keyed by plan kind. */
  ext?: Record<string, unknown>;
}

// ---------------------------------------------------------------- run events (reporters)

export interface RunInfo {
  v: typeof V;
  id: string;
  command: PlanKind;
  target: string; // redacted URL
  startedAt: number;
  config: Record<string, unknown>; // redacted
  host: Record<string, unknown>;
}

export type RunEvent =
  | { type: 'run-start'; info: RunInfo }
  | { type: 'step-start'; spec: StepSpec }
  | { type: 'interval'; snapshot: IntervalSnapshot }
  | { type: 'step-end'; result: StepResult }
  | { type: 'run-end'; result: RunResult };

export interface RunResult<Verdict = unknown> {
  v: typeof V;
  info: RunInfo;
  steps: StepResult[];
  verdict: Verdict | null;
  endedAt: number;
  interrupted: boolean;
  diagnosis: string[]; // one-line explanations (e.g. "nothing is listening at …")
  exitCode: number;
}

// ---------------------------------------------------------------- verdicts

export interface CapacityPoint {
  sessions: number;
  successful: number;
  rate: number; // successful / sessions, 0..1
  passed: boolean;
  refinement: boolean; // a bisection step, not a ladder point
}

export interface CapacityVerdict {
  threshold: number; // 0..1
  safetyFactor: number;
  points: CapacityPoint[]; // in the order they ran
  maxReliable: number | null; // highest passing session count
  firstFailing: number | null; // lowest failing count above maxReliable
  safeLimit: number | null; // floor(maxReliable * safetyFactor)
  refined: boolean; // bisection ran to the requested precision
  targetConnections?: number;
  tasksNeeded?: number; // ceil(target / maxReliable * 1.2)
  closes?: CloseAnalysis[]; // sustain: premature closes of each step
}

export interface CloseAnalysis {
  count: number;
  byClass: Record<string, number>;
  ages: { minMs: number; p50Ms: number; maxMs: number } | null; // time since open
  idle: { p50Ms: number } | null; // time since the last frame sent
  buckets: { fromMs: number; toMs: number; count: number }[]; // distribution of time since open
  /** Most closes happened at about the same idle time. */
  cluster: { count: number; ageMs: number; kind: 'idle' | 'lifetime' } | null;
  advice: string | null;
}
