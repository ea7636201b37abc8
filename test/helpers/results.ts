import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../src/contract.js';
import type { LoadFindings } from '../../src/engine/load-model.js';
import type { StepResult } from '../../src/contract.js';
import { readRunResult } from '../../src/report/json.js';
import { assertValidResult } from './schema.js';

/** A fresh directory for one run's --out. */
export function outDir(prefix = 'out'): string {
  return mkdtempSync(path.join(tmpdir(), `holdline-${prefix}-`));
}

/** The one result file a run wrote into `dir` (fails when there is none or more than one). */
export function onlyResult<V = unknown>(dir: string): RunResult<V> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 1, `one result file in ${dir}: ${files.join(', ')}`);
  const file = path.join(dir, files[0]);
  assertValidResult(JSON.parse(readFileSync(file, 'utf8')), file);
  return readRunResult(file) as RunResult<V>;
}

/** The load findings of a `holdline load` step. */
export function loadFindings(r: StepResult): LoadFindings {
  const f = r.ext?.load as LoadFindings | undefined;
  assert.ok(f, `the step has load findings (failures ${JSON.stringify(r.failures)})`);
  return f;
}

/** Every count of a load step adds up: messages, deliveries, receipts, the schedule. */
export function assertLoadSums(f: LoadFindings): void {
  const m = f.messages;
  const d = m.dropped;
  assert.equal(
    m.scheduled,
    m.sent + d.noSender + d.notWritable + d.invalid + d.behind,
    'scheduled = sent + dropped',
  );
  assert.equal(
    m.sent,
    m.delivered + m.failed + m.noRecipients + m.unresolved,
    'sent = delivered + failed + …',
  );
  const dl = m.deliveries;
  assert.equal(dl.expected, dl.onTime + dl.late + dl.missing, 'expected = on time + late + missing');
  const rc = m.receipts;
  assert.equal(
    m.received,
    dl.onTime + dl.late + rc.duplicate + rc.extra + rc.stale + rc.foreign,
    'received adds up',
  );
}
