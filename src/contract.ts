// Plain data that crosses layer and process boundaries. Versioned; histograms travel as HDR
// compressed base64 strings so they can be merged anywhere.

export const V = 1 as const;

/** What a secret is replaced with in every output. */
export const REDACTED = '[redacted]';

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
  /** The command line as typed, secrets redacted (added in 0.1; older results lack it). */
  commandLine?: string;
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
  /** Every interval snapshot, one row per worker and second (older results lack it). */
  timeline?: TimelineRow[];
  /** `--threshold` rules, judged over this result (absent when none was given). */
  thresholds?: ThresholdResult[];
  /** Set when a `:abort` threshold stopped the run early. */
  abortedBy?: ThresholdAbort | null;
  /** `--target-metrics`: the target's own Prometheus figures, scraped every second. */
  targetMetrics?: TargetMetrics;
}

export interface TargetMetricsSample {
  t: number; // ms since the run started
  /** CPU % of one core since the previous sample (null on the first, or without a CPU counter). */
  cpuPct: number | null;
  rssBytes: number | null;
  connections: number | null;
  eldP99Ms: number | null;
}

export interface TargetMetrics {
  url: string; // redacted
  scrapes: number;
  failures: number;
  /** The last failure, one line (null when every scrape worked). */
  lastError: string | null;
  samples: TargetMetricsSample[];
}

/** One worker's interval snapshot, flattened for charts (counts are for that interval). */
export interface TimelineRow {
  t: number; // ms since the run started, at the end of the interval
  step: number;
  worker: number;
  active: number;
  pending: number;
  started: number;
  failed: number;
  failures: Record<string, number>;
  sent: number;
  recv: number;
  cpuPct: number;
  eldP99Ms: number;
  rssBytes: number;
  /** The generator's saturation rule held in this interval. */
  saturated: boolean;
  /** Heartbeat round trips of this interval (absent when none was measured). */
  heartbeat?: { count: number; p50Ms: number; p99Ms: number };
}

// ---------------------------------------------------------------- thresholds (--threshold)

export type ThresholdOp = '<' | '<=' | '>' | '>=' | '=' | '!=';

export interface ThresholdResult {
  /** As given, e.g. `p95<500ms` or `errors<5%:abort`. */
  expr: string;
  metric: string;
  op: ThresholdOp;
  /** Fractions 0..1, milliseconds or counts, as the metric is measured. */
  limit: number;
  unit: 'fraction' | 'ms' | 'count';
  abort: boolean;
  /** null: the run measured nothing for this metric (counts as failed). */
  value: number | null;
  passed: boolean;
}

export interface ThresholdAbort {
  expr: string;
  /** One sentence: the value that broke the rule and when. */
  reason: string;
  atMs: number; // since the run started
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

// ---------------------------------------------------------------- run (holdline run)

/** What the generator cost, per unit of work (null when there was no such work). */
export interface RunCost {
  /** Peak RSS above the RSS at the step's start, per session held (bytes). */
  rssPerSessionBytes: number | null;
  /** User + system CPU per session opened (ms). */
  cpuPerSessionMs: number | null;
  /** User + system CPU per message sent (µs): a round trip when every message is answered. */
  cpuPerMessageUs: number | null;
  cpuMs: number;
  peakRssBytes: number;
  maxEldMs: number;
  saturated: boolean;
}

export interface RunVerdict {
  threshold: number;
  sessions: number;
  successful: number;
  /** successful / sessions, 0..1 */
  rate: number;
  passed: boolean;
  messages: { sent: number; received: number; unanswered: number; replies: number };
  cost: RunCost;
}

// ---------------------------------------------------------------- plan (holdline plan)

export interface TaskRow {
  target: number;
  perTask: number;
  buffer: number;
  /** target / perTask before the buffer. */
  base: number;
  /** base × (1 + buffer), before rounding up. */
  exact: number;
  tasks: number;
  /** Connections the tasks hold at perTask each. */
  capacity: number;
}

// ---------------------------------------------------------------- suite (holdline suite)

export const SUITE_V = 1 as const;

export interface SuiteEnvStage {
  /** The full host snapshot, as `holdline env --json` prints it. */
  facts: Record<string, unknown>;
  /** The run the preflight judged: the most sessions open at once, and where they go. */
  planned: { sessions: number; target: string };
  /** What is wrong on this host for the planned run, one line each (empty: nothing). */
  preflight: string[];
  /** Titles of the host advice marked as warnings (the reasons and fixes are in `facts.advice`). */
  warnings: string[];
}

export type StageStatus = 'running' | 'done' | 'skipped' | 'interrupted' | 'error';

export interface SustainOutcome {
  /** Connections asked for: the safe limit. */
  sessions: number;
  established: number;
  /** Open and healthy at the end of the hold. */
  held: number;
  closedEarly: number;
  neverOpened: number;
  /** `held` reached the threshold. */
  passed: boolean;
  /** held: every connection lasted; lost: some did not, within the threshold; failed: below it. */
  verdict: 'held' | 'lost' | 'failed';
}

export interface SuiteSustainStage {
  status: StageStatus;
  /** Why it did not run (skipped, interrupted). */
  reason?: string;
  /** The safe limit found by capacity: the connections held. */
  sessions: number | null;
  durationMs: number;
  heartbeat: HeartbeatSpec | null;
  /** The sustained run, as `holdline sustain` saves it (partial while it runs). */
  result: RunResult<CapacityVerdict> | null;
  outcome: SustainOutcome | null;
}

export interface SuitePlanStage {
  status: StageStatus;
  reason?: string;
  /** Connections per task: what the sustained test held. */
  perTask: number | null;
  perTaskFrom: 'sustain';
  /** Said when the sustained test lost connections and the plan uses fewer than the safe limit. */
  note?: string;
  buffer: number;
  rows: TaskRow[];
  commands: string[];
}

export interface SuiteVerdict {
  /** Every stage ran and every threshold held. */
  passed: boolean;
  maxReliable: number | null;
  /** Every capacity point passed: the real limit is above maxReliable. */
  limitAbove: boolean;
  safeLimit: number | null;
  sustain: SustainOutcome['verdict'] | 'not-run';
  perTask: number | null;
  tasks: { target: number; tasks: number }[];
  /** Why `passed` is false, one line each. */
  problems: string[];
}

export interface SuiteResult {
  v: typeof SUITE_V;
  kind: 'suite';
  id: string;
  /** What was tested, redacted. */
  target: string;
  startedAt: number;
  endedAt: number;
  config: Record<string, unknown>;
  env: SuiteEnvStage | null;
  /** The ladder, as `holdline capacity` saves it (partial while it runs). */
  capacity: RunResult<CapacityVerdict> | null;
  sustain: SuiteSustainStage | null;
  plan: SuitePlanStage | null;
  verdict: SuiteVerdict | null;
  interrupted: boolean;
  /** An unexpected failure that stopped the suite; the stages before it are kept. */
  error: string | null;
  /** 130 until the suite ends, so a file left by a killed run says it did not finish. */
  exitCode: number;
}

// ---------------------------------------------------------------- load settings (StepSpec.ext.load)

/** JSON path → value a frame must hold there (every entry must match). */
export type LoadMatchSpec = Record<string, string | number | boolean | null>;

/** One templated HTTP request. A string body is sent as text; anything else as JSON. */
export interface RequestSpec {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** How a chat service is driven: group creation, join, message framing and recognition. */
export interface ChatProtocol {
  name: string;
  /** HTTP steps run once before groups are created; their captures are usable below. */
  setup: HttpStepSpec[];
  /** One group per request (`{{group}}`, `{{index}}`). Statuses in `exists` mean "already there". */
  create?: RequestSpec & { exists?: number[] };
  /** Many groups per request (`{{names}}` JSON list, `{{count}}`, `{{first}}`, `{{last}}`). */
  batch?: RequestSpec & { size: number; created?: string; exists?: number[] };
  join: { send: string; ack?: { match: LoadMatchSpec; group?: string } };
  message: {
    /** `{{group}}`, `{{id}}`, `{{ts}}` (epoch ms), `{{tsUs}}`, `{{seq}}`, `{{payload}}`. */
    send: string;
    /**
     * A delivery: frames matching `match`, the message id at `id`. `ts` (optional) is where the
     * frame carries the intended send time in epoch ms (as sent in {{ts}}): deliveries this
     * process did not send are timed from it (histogram `message_foreign`).
     */
    receive: { match: LoadMatchSpec; id: string; ts?: string };
    ack?: { match: LoadMatchSpec; id?: string; recipients?: string };
  };
  error?: { match: LoadMatchSpec; code?: string; detail?: string };
}

export interface HttpLoadSpec {
  rate: number; // requests per second, aggregate
  request: RequestSpec;
  timeoutMs: number;
}

/** `StepSpec.ext.load`. */
export interface LoadSettings {
  connections: number;
  groups: number;
  groupPrefix: string;
  groupsPerConnection: number;
  createGroups: boolean;
  /** Groups per creation request; 1 uses the protocol's single-group request. */
  groupBatch: number;
  groupConcurrency: number;
  rate: number; // messages per second, aggregate over workers
  payloadChars: number;
  durationMs: number; // messaging
  messageTimeoutMs: number;
  rampUpMs: number;
  /** Messaging starts once every join is acknowledged, or this long after the connections are up. */
  joinGraceMs: number;
  protocol: ChatProtocol;
  http?: HttpLoadSpec;
  /** The reference target's `/health` (template), polled for its event-loop delay. */
  healthUrl?: string;
  compression: boolean;
}

// ---------------------------------------------------------------- load findings (StepResult.ext.load)

export interface GroupFindings {
  skipped: boolean;
  requested: number;
  created: number;
  existing: number;
  failed: number; // requested = created + existing + failed
  requests: number;
  failedRequests: number;
  batchSize: number;
  durationMs: number;
  groupsPerSec: number;
  /** Groups that connections join (see usedGroups) and their member counts. */
  used: number;
  membersMin: number;
  membersMax: number;
}

export interface RampFindings {
  requested: number;
  established: number;
  failed: number; // requested - established
  successRate: number; // established / requested
  durationMs: number; // ramp start (after group creation) to the last establishment
  connectRate: number; // achieved, connections per second
  targetRate: number; // asked for: connections / ramp-up
  joinsSent: number;
  joinsAcked: number;
  lost: number; // established, then closed before the end of the step
  joinWaitMs: number; // from the last establishment to the last join acknowledgement (capped)
}

export interface MessageFindings {
  rate: number;
  payloadChars: number;
  timeoutMs: number;
  durationMs: number; // from the first intended send to the last one
  /** scheduled = sent + dropped.noSender + dropped.notWritable + dropped.invalid + dropped.behind */
  scheduled: number;
  sent: number;
  dropped: { noSender: number; notWritable: number; invalid: number; behind: number };
  /** sent = delivered + failed + noRecipients + unresolved */
  delivered: number; // every member connected at send time got it within the timeout
  failed: number;
  noRecipients: number; // no other member connected at send time
  unresolved: number; // still within the timeout when the run was stopped
  /** delivered / (delivered + failed + every dropped message): the scheduled ones that could be judged */
  successRate: number;
  /** expected = onTime + late + missing */
  deliveries: { expected: number; onTime: number; late: number; missing: number };
  /** received = onTime + late + duplicate + extra + stale + foreign */
  received: number;
  receipts: { duplicate: number; extra: number; stale: number; foreign: number };
  achievedRate: number; // sent per second of messaging
  receivedPerSec: number;
  sendLag: { p50Ms: number; p99Ms: number; maxMs: number };
  behind: boolean; // the generator could not keep the schedule
  acks: { count: number; recipients: number };
  errors: number; // error frames received
}

/** Scheduled messages that were not sent, whatever the reason. */
export function unsentMessages(d: MessageFindings['dropped']): number {
  return d.noSender + d.notWritable + d.invalid + d.behind;
}

/** What the message success rate is over: delivered, failed, and the scheduled ones never sent. */
export function judgedMessages(m: MessageFindings): number {
  return m.delivered + m.failed + unsentMessages(m.dropped);
}

export interface HttpLoadFindings {
  rate: number;
  request: string; // `GET {{baseUrl}}/health`: the template, so no secret
  scheduled: number; // = sent + dropped
  sent: number; // = sum of byClass
  dropped: number; // too many in flight
  byClass: Record<string, number>; // 2xx, 4xx, …, timeout, refused, …
}

export interface HistoryRow {
  t: number; // seconds since the messaging started (negative while connections ramp up)
  active: number;
  sent: number;
  received: number;
  dropped: number;
  p50: number; // ms; 0 when nothing was received that second
  p95: number;
  p99: number;
  max: number;
  cpuPct: number;
  eldMs: number; // event-loop delay p99
  rssBytes: number;
}

/**
 * The target's event-loop delay from its /health, polled every 2 s. Each reading covers the
 * target's last complete 10 s window, so it trails the load by up to 20 s.
 */
export interface TargetHealth {
  probes: number;
  failures: number;
  eldP99MaxMs: number;
  eldMaxMs: number;
  /** When the highest p99 was read, seconds since messaging started (negative: during ramp-up). */
  worstAtS: number;
  samples: { t: number; p99Ms: number; maxMs: number }[];
}

export interface LoadErrorClass {
  code: string;
  count: number;
  samples: string[];
}

export interface LoadFindings {
  groups: GroupFindings;
  ramp: RampFindings;
  messages: MessageFindings;
  http: HttpLoadFindings | null;
  history: HistoryRow[];
  errors: LoadErrorClass[];
  /** Socket-level bytes of the connections open at the end (frames, headers, compression). */
  wire: { connections: number; sentBytes: number; recvBytes: number; compressed: number };
  /** The target's own event-loop delay while loaded (reference target only). */
  target: TargetHealth | null;
  latency: LatencySummary | null;
}

// ---------------------------------------------------------------- load verdict

export interface LoadCriterion {
  name: 'connection_success' | 'message_success' | 'p95_latency' | 'critical_errors';
  passed: boolean;
  /** Measured value (fraction, ms, or count of critical errors); null when nothing was measured. */
  actual: number | null;
  limit: number;
  /** Not judged (no message was scheduled, or the check is switched off). */
  skipped: boolean;
}

export interface LoadVerdict {
  passed: boolean;
  criteria: LoadCriterion[];
  /** Critical errors, one sentence each. */
  critical: string[];
  /** What makes the figures less trustworthy (generator or target saturated, …), one sentence each. */
  warnings: string[];
}

// ---------------------------------------------------------------- broadcast settings (spec.ext.broadcast)

export type BroadcastMatchSpec = { kind: 'substring' } | { kind: 'json'; path: string };

/** The HTTP request that publishes one code; templates may use {{code}} and {{codeIndex}}. */
export interface PublishSpec {
  /** Steps run once before the first publish (e.g. a token); their captures feed the templates. */
  http: HttpStepSpec[];
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  timeoutMs: number;
}

export interface BroadcastSettings {
  /** Unique codes, in publish order: `codePrefix` + CODE_RANDOM_CHARS of `codeAlphabet`. */
  codes: string[];
  codePrefix: string;
  codeAlphabet: string;
  /** Publishing is spread evenly over this, from the end of the connect phase. */
  durationMs: number;
  /** After the last publish, wait this long for receipts (less once every client has every code). */
  collectMs: number;
  publish: PublishSpec;
  match: BroadcastMatchSpec;
  /** Most clients with missed codes, and drops, listed one by one. */
  listLimit: number;
}

// ---------------------------------------------------------------- broadcast findings (result.ext.broadcast)

export interface MissedClient {
  client: number; // global session index
  codes: number[]; // code indexes
}

export interface StreamDrop {
  client: number;
  atMs: number; // since the step started
  reason: string; // error class
  reconnected: boolean;
}

// ---------------------------------------------------------------- broadcast verdict

export type BroadcastGrade = 'good' | 'warning' | 'issues';

export interface BroadcastThresholds {
  minDelivery?: number;
  minConnected?: number;
  maxErrorRate?: number;
  maxP99Ms?: number;
  /** The grade from which the run fails (exit 1); `never`: only thresholds fail it. */
  failOn: BroadcastGrade | 'never';
}

export interface CodeRow {
  index: number;
  code: string;
  scheduledMs: number;
  publishedAtMs: number | null;
  status: string; // ok | failure class | pending
  connected: number;
  received: number;
  missing: number;
  late: number;
  firstMs: number | null;
  lastMs: number | null;
  spreadMs: number | null;
}

export interface BroadcastVerdict {
  grade: BroadcastGrade;
  /** The numbers that led to the grade, one per criterion, each with its own grade. */
  reasons: { grade: BroadcastGrade; text: string }[];
  clients: number;
  connected: number;
  connectRate: number;
  connectMs: number;
  codes: number;
  published: number;
  publishFailed: number;
  expected: number; // published codes × clients connected at their publish time
  received: number;
  missing: number;
  deliveryRate: number;
  duplicates: number;
  unknownCodes: number;
  unknownSamples: string[];
  late: number;
  otherMessages: number;
  errors: number;
  errorRate: number;
  drops: StreamDrop[];
  dropCount: number;
  reconnects: number;
  latency: LatencySummary | null; // intended publish time → receipt
  publishLatency: LatencySummary | null;
  spread: { p50Ms: number; maxMs: number } | null; // first → last client, per code
  perCode: CodeRow[];
  missed: MissedClient[];
  missedClients: number;
  missedPairs: number;
  durationMs: number;
  collectMs: number;
  endedEarly: boolean;
  thresholds: BroadcastThresholds;
  /** Thresholds not met, as sentences. */
  failed: string[];
  passed: boolean;
}
