import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { SUITE_V, V, type CapacityVerdict, type RunResult, type SuiteResult } from '../../contract.js';
import { UserError } from '../../errors.js';
import { analyzeCloses } from '../../plans/sustain.js';
import { BroadcastTextReporter } from '../../report/broadcast-text.js';
import { CapacityTextReporter } from '../../report/capacity-text.js';
import { writeHtmlReport } from '../../report/html/writer.js';
import { LoadTextReporter } from '../../report/load-text.js';
import type { Out, Reporter } from '../../report/reporter.js';
import { RunTextReporter } from '../../report/run-text.js';
import { suiteSummary } from '../../report/suite-text.js';
import { SustainTextReporter } from '../../report/sustain-text.js';
import { ThresholdsTextReporter } from '../../report/thresholds-text.js';
import type { CliIO } from '../io.js';

export function reportCommand(io: CliIO): Command {
  return new Command('report')
    .description('render a saved result again: the terminal summary, and its HTML report beside it')
    .argument('<result>', 'a result file (capacity-…json, sustain-…, load-…, broadcast-…, run-…, suite-…)')
    .option('--open', 'open the HTML report in the default browser')
    .option('--no-html', 'print the summary only')
    .action((file: string, o: { open?: boolean; html: boolean }) => {
      const abs = path.resolve(io.cwd, file);
      const doc = readAnyResult(abs);
      if ('kind' in doc && doc.kind === 'suite') {
        io.stdout.write(suiteSummary(doc, { file }) + '\n');
      } else {
        replay(doc as RunResult, textReporter(doc as RunResult, io.stdout));
      }
      if (!o.html) return;
      const html = writeHtmlReport(abs, doc);
      io.stderr.write(`report: ${path.relative(io.cwd, html) || html}\n`);
      if (o.open) openInBrowser(html, io);
    });
}

/**
 * A run or suite result of this format version or an older one: fields added since then are
 * optional, and the renderers do without them. A newer version is refused with a clear message.
 */
export function readAnyResult(file: string): RunResult | SuiteResult {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`cannot read the result file ${file}: ${(err as Error).message}`);
  }
  const r = data as Partial<RunResult & SuiteResult> | null;
  if (r === null || typeof r !== 'object' || typeof r.v !== 'number') {
    throw new UserError(`${file} is not a holdline result file`);
  }
  const suite = r.kind === 'suite';
  const known = suite ? SUITE_V : V;
  if (r.v > known) {
    throw new UserError(
      `${file} has result format version ${r.v}; this holdline reads versions up to ${known}`,
      'render it with the holdline version that wrote it, or a newer one',
    );
  }
  if (!suite && (!Array.isArray(r.steps) || !r.info))
    throw new UserError(`${file} is not a holdline result file`);
  if (!suite) {
    const run = r as RunResult;
    run.diagnosis ??= [];
    run.info.host ??= {};
    run.info.config ??= {};
  }
  return r as RunResult | SuiteResult;
}

/** The text the command printed when it ran, from the result alone. */
function textReporter(r: RunResult, out: Out): Reporter[] {
  const target = r.info.target;
  const passedAt = (s: RunResult['steps'][number]): boolean =>
    (r.verdict as CapacityVerdict | null)?.points[r.steps.indexOf(s)]?.passed ?? false;
  const thresholds = new ThresholdsTextReporter(out);
  switch (r.info.command) {
    case 'capacity':
      return [new CapacityTextReporter(out, passedAt, target, false), thresholds];
    case 'sustain': {
      const hb = r.steps[0]?.spec.heartbeat;
      return [
        new SustainTextReporter({
          out,
          passed: passedAt,
          analyze: (s) => analyzeCloses(s.earlyCloses ?? [], hb ? hb.intervalMs : null),
          target,
          warnings: [],
        }),
        thresholds,
      ];
    }
    case 'load':
      return [new LoadTextReporter({ out, target }), thresholds];
    case 'broadcast':
      return [new BroadcastTextReporter({ out, target, color: false }), thresholds];
    case 'run':
      return [new RunTextReporter({ out, target }), thresholds];
  }
}

function replay(r: RunResult, reporters: Reporter[]): void {
  for (const rep of reporters) {
    rep.runStart?.(r.info);
    for (const s of r.steps) {
      rep.stepStart?.(s.spec);
      rep.stepEnd?.(s);
    }
    void rep.runEnd?.(r);
  }
}

function openInBrowser(file: string, io: CliIO): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [file]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', file]]
        : ['xdg-open', [file]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', () => io.stderr.write(`cannot open a browser (${cmd}): open ${file} yourself\n`));
  child.unref();
}
