// 10,000 SSE subscribers held by ONE generator process, and the fan-out of each published code
// measured end to end: from the publish request's (intended) start to the last subscriber's
// receipt. The reference target runs in its own process (spawnTarget); one target process holds
// 10,000 streams within this machine's 20,000 open-file cap.
//
//   node dist/bench/broadcast-sse.js [subscribers=10000] [codes=5] [base URL of a running target]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTarget } from '../src/target/spawn.js';
import type { RunResult } from '../src/contract.js';
import type { BroadcastVerdict } from '../src/plans/broadcast.js';
import { generatorFigures, isMain, printFigures } from './lib.js';

const BIN = fileURLToPath(new URL('../../bin/holdline.js', import.meta.url));

export async function broadcastSse(subscribers: number, codes: number, url?: string): Promise<number> {
  const t = url ? null : await spawnTarget({ options: { auth: 'none' } });
  const base = (url ?? t!.url).replace(/\/$/, '');
  const out = mkdtempSync(path.join(tmpdir(), 'holdline-bench-bc-'));
  try {
    const probe = await fetch(`${base}/codes`, { method: 'POST', body: '{"code":"probe"}' });
    if (probe.status === 404) {
      console.log(`broadcast-sse: ${base} has no POST /codes: nothing to measure`);
      return 2;
    }
    const args = [
      'broadcast',
      String(subscribers),
      String(codes),
      `${codes}s`,
      '--subscribe-url',
      `${base}/events`,
      '--publish-url',
      `${base}/codes`,
      '--connect-concurrency',
      '500',
      '--step-timeout',
      '120s',
      '--collect',
      '15s',
      '--fail-on',
      'never',
      '--no-progress',
      '--out',
      out,
    ];
    const t0 = performance.now();
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', (c) => resolve(c ?? -1));
      child.on('error', reject);
    });
    const wallS = (performance.now() - t0) / 1000;
    const file = readdirSync(out).find((f) => f.endsWith('.json'));
    if (!file) throw new Error(`holdline broadcast wrote no result (exit ${code})`);
    const result = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as RunResult<BroadcastVerdict>;
    const s = result.steps[0];
    const v = result.verdict!;
    const fanout = v.perCode.map((c) => c.lastMs).filter((x): x is number => x !== null);
    const lat = v.latency;
    const figures: Record<string, number | string> = {
      connected: `${v.connected}/${v.clients}`,
      'connect phase s': +(v.connectMs / 1000).toFixed(2),
      'delivery rate %': +(v.deliveryRate * 100).toFixed(3),
      'publish → last receipt ms': fanout.map((x) => x.toFixed(1)).join(', '),
      'publish → last, median ms': median(fanout),
      'publish → first, median ms': median(v.perCode.map((c) => c.firstMs)),
      'first → last spread, median ms': v.spread ? +v.spread.p50Ms.toFixed(1) : '–',
      'delivery p50 / p99 / max ms': lat ? `${lat.p50} / ${lat.p99} / ${lat.max}` : '–',
      'publish request p50 ms': v.publishLatency ? v.publishLatency.p50 : '–',
      ...generatorFigures(s),
    };
    printFigures(
      `broadcast-sse: ${subscribers} SSE subscribers, ${codes} codes, one generator process (wall ${wallS.toFixed(1)} s, exit ${code})`,
      figures,
    );
    return v.deliveryRate === 1 && v.connected === subscribers ? 0 : 1;
  } finally {
    await t?.close();
  }
}

function median(xs: (number | null)[]): number | string {
  const s = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return s.length > 0 ? +s[Math.floor((s.length - 1) / 2)].toFixed(1) : '–';
}

if (isMain(import.meta.url)) {
  const [n, c, url] = process.argv.slice(2);
  process.exitCode = await broadcastSse(n ? Number(n) : 10_000, c ? Number(c) : 5, url);
}
