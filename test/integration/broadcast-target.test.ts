import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import type { BroadcastVerdict } from '../../src/plans/broadcast.js';
import { onlyResult } from '../helpers/results.js';

// The acceptance runs: `holdline broadcast 500 20 20s` against the built-in reference target (a
// child process, tokens per client, POST /codes), over SSE and over WebSocket. About 20 s each.

for (const transport of ['sse', 'ws'] as const) {
  test(`reference target over ${transport}: 500 clients, 20 codes, 20 s: 100% delivered, GOOD`, async () => {
    const out = mkdtempSync(path.join(tmpdir(), `holdline-bc-${transport}-`));
    const r = await runCli([
      'broadcast',
      '500',
      '20',
      '20s',
      '--transport',
      transport,
      '--min-delivery',
      '1',
      '--no-progress',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const res = onlyResult<BroadcastVerdict>(out);
    const v = res.verdict!;
    assert.equal(v.grade, 'good', r.stdout);
    assert.equal(v.connected, 500);
    assert.equal(v.published, 20);
    assert.equal(v.expected, 10_000);
    assert.equal(v.received, 10_000);
    assert.equal(v.deliveryRate, 1);
    assert.equal(v.duplicates, 0);
    assert.equal(v.unknownCodes, 0);
    assert.equal(v.latency?.count, 10_000);
    assert.ok(v.latency!.p50 > 0 && v.latency!.p99 >= v.latency!.p50);
    assert.equal(res.steps[0].spec.scenario.connect.transport, transport);
    assert.equal(res.steps[0].setup?.completed, 500, 'every client got its token first');
    assert.match(r.stdout, /Phase 3 – collect and disconnect: 10,000\/10,000 expected receipts \(100\.0%\)/);
    assert.match(r.stdout, /Latency, publish → receipt: p50 [\d.]+ · p90 [\d.]+ · p95 [\d.]+ · p99 [\d.]+/);
    assert.match(r.stdout, /Verdict: GOOD/);
  });
}
