import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTarget } from '../src/target/spawn.js';
import type { TargetOptions } from '../src/target/options.js';
import type { RunResult, StepResult } from '../src/contract.js';

const BIN = fileURLToPath(new URL('../../bin/holdline.js', import.meta.url));

/** Runs `holdline <args> <target url>` as its own process against a fresh reference target. */
export async function runAgainstTarget(
  command: string,
  args: string[],
  target: Partial<TargetOptions>,
): Promise<{ result: RunResult; wallS: number; code: number }> {
  const t = await spawnTarget({ options: target });
  const out = mkdtempSync(path.join(tmpdir(), 'holdline-bench-'));
  try {
    const t0 = performance.now();
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, command, t.wsUrl, ...args, '--no-progress', '--out', out], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.on('exit', (c) => resolve(c ?? -1));
      child.on('error', reject);
    });
    const wallS = (performance.now() - t0) / 1000;
    const file = readdirSync(out).find((f) => f.endsWith('.json'));
    if (!file) throw new Error(`holdline ${command} wrote no result (exit ${code})`);
    return { result: JSON.parse(readFileSync(path.join(out, file), 'utf8')) as RunResult, wallS, code };
  } finally {
    await t.close();
  }
}

/** The generator's own cost in one step, per held and per opened session. */
export function generatorFigures(s: StepResult): Record<string, number | string> {
  const g = s.generator;
  const cpuMs = g.cpuUserMs + g.cpuSystemMs;
  const base = g.baseRssBytes ?? 0;
  return {
    requested: s.sessions,
    held: s.successful,
    failures: JSON.stringify(s.failures),
    'establish s': +(s.durationMs / 1000).toFixed(2),
    'peak RSS MB': +(g.peakRssBytes / 2 ** 20).toFixed(1),
    'base RSS MB': +(base / 2 ** 20).toFixed(1),
    'peak RSS KB / held': +(g.peakRssBytes / 1024 / Math.max(1, s.successful)).toFixed(2),
    'RSS above base KB / held': +((g.peakRssBytes - base) / 1024 / Math.max(1, s.successful)).toFixed(2),
    'CPU s (user+sys)': +(cpuMs / 1000).toFixed(2),
    'CPU ms / opened': +(cpuMs / Math.max(1, s.established)).toFixed(3),
    'max event-loop delay ms': g.maxEldMs,
    'max fds': g.maxFds,
    'generator saturated': String(g.saturated),
  };
}

export function printFigures(title: string, figures: Record<string, number | string>): void {
  console.log(title);
  for (const [k, v] of Object.entries(figures)) console.log(`  ${k.padEnd(28)} ${v}`);
}

export function isMain(url: string): boolean {
  return process.argv[1] === fileURLToPath(url);
}
