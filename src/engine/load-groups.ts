import type { Recorder } from '../metrics/recorder.js';
import { HttpSteps } from '../scenario/http-steps.js';
import { compilePath } from '../scenario/json-path.js';
import type { TemplateEnv } from '../scenario/template.js';
import { HttpCaller, RequestTemplate, snippet } from './load-http.js';
import type { ErrorLog } from './load-history.js';
import { groupName, type GroupFindings, type LoadSettings } from './load-model.js';

// The group phase: the protocol's setup steps (a token, say) once, then the groups over HTTP,
// batched when the protocol has a batch request, with a few requests in flight. Every request's
// response time goes to the `http:groups` histogram; every group ends created, existing or failed.

export interface GroupRun {
  findings: GroupFindings;
  /** Base variables plus the setup steps' captures. */
  vars: Record<string, string>;
}

export async function runSetup(
  s: LoadSettings,
  base: Record<string, string>,
  env: TemplateEnv,
  rec: Recorder,
  signal: AbortSignal,
): Promise<Record<string, string>> {
  if (s.protocol.setup.length === 0) return { ...base };
  const steps = new HttpSteps(s.protocol.setup, { env, timeoutMs: 30_000, connections: 1 });
  try {
    const r = await steps.run(base, (name, us) => rec.latency(`http:setup:${name}`, us), signal);
    if (!r.ok) throw new Error(`setup step failed (${r.code}): ${r.detail}`);
    return r.vars;
  } finally {
    await steps.close();
  }
}

export async function createGroups(
  s: LoadSettings,
  vars: Record<string, string>,
  env: TemplateEnv,
  rec: Recorder,
  errors: ErrorLog,
  signal: AbortSignal,
  out: GroupFindings,
): Promise<void> {
  const p = s.protocol;
  const batched = s.groupBatch > 1 && p.batch !== undefined;
  const spec = batched ? p.batch! : p.create;
  if (!spec) throw new Error('the chat protocol has no request to create groups (create or batch)');
  const size = batched ? s.groupBatch : 1;
  const tpl = new RequestTemplate(spec, env);
  const createdPath = batched && p.batch!.created ? compilePath(p.batch!.created) : null;
  const exists = new Set(spec.exists ?? []);
  const caller = new HttpCaller({ connections: s.groupConcurrency, timeoutMs: 30_000 });
  out.batchSize = size;
  const chunks = Math.ceil(s.groups / size);
  let next = 0;
  const t0 = performance.now();

  const one = async (c: number): Promise<void> => {
    const from = c * size;
    const to = Math.min(s.groups, from + size);
    const n = to - from;
    const v: Record<string, string> = { ...vars, prefix: s.groupPrefix, index: String(from) };
    if (batched) {
      const names: string[] = new Array(n);
      for (let i = 0; i < n; i++) names[i] = groupName(s.groupPrefix, from + i);
      v.names = JSON.stringify(names);
      v.count = String(n);
      v.first = names[0];
      v.last = names[n - 1];
    } else {
      v.group = groupName(s.groupPrefix, from);
    }
    const req = tpl.render(v); // a template error stops the phase: it would fail every request
    const t = performance.now();
    const r = await caller.call(req, createdPath !== null);
    if (signal.aborted) return;
    out.requests++;
    if (r.status > 0) rec.latency('http:groups', (performance.now() - t) * 1000);
    if (r.status >= 200 && r.status < 300) {
      const made = createdPath ? createdCount(r.text, createdPath, n) : n;
      out.created += made;
      out.existing += n - made;
    } else if (exists.has(r.status)) {
      out.existing += n;
    } else {
      out.failed += n;
      out.failedRequests++;
      const code = r.status > 0 ? `groups_http_${r.status}` : `groups_${r.error}`;
      errors.add(code, `${tpl.label} → ${r.status > 0 ? r.status : r.detail}${snippet(r.text)}`);
    }
  };
  const worker = async (): Promise<void> => {
    while (next < chunks && !signal.aborted) await one(next++);
  };
  // One listener for the whole phase (not one per request): a stop destroys the agent, which
  // ends every request in flight.
  const stop = (): void => void caller.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all(Array.from({ length: Math.min(s.groupConcurrency, chunks) }, worker));
  } finally {
    signal.removeEventListener('abort', stop);
    await caller.close();
    out.durationMs = Math.round(performance.now() - t0);
    const secs = out.durationMs / 1000;
    out.groupsPerSec = secs > 0 ? Math.round(((out.created + out.existing) / secs) * 10) / 10 : 0;
  }
  if (out.requests > 0 && out.failedRequests === out.requests) {
    const first = errors.list().find((e) => e.code.startsWith('groups_'));
    throw new Error(
      `every group creation request failed (${first?.code ?? 'error'}${first?.samples[0] ? `: ${first.samples[0]}` : ''}); ` +
        'if the groups exist already or the service creates them on join, use --no-create-groups',
    );
  }
}

/** The protocol's "created" number, clamped to the batch; the whole batch when it is missing. */
function createdCount(text: string | null, path: ReturnType<typeof compilePath>, n: number): number {
  if (!text) return n;
  try {
    const v = path.get(JSON.parse(text));
    return typeof v === 'number' && Number.isFinite(v) ? Math.max(0, Math.min(n, Math.round(v))) : n;
  } catch {
    return n;
  }
}
