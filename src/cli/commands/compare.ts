import path from 'node:path';
import { Command, Option } from 'commander';
import type { RunResult, SuiteResult } from '../../contract.js';
import { EXIT, UserError } from '../../errors.js';
import { compareMarkdown, compareText } from '../../report/compare-text.js';
import { compareResults } from '../../thresholds/compare.js';
import { parseFraction } from '../parse.js';
import type { CliIO } from '../io.js';
import { readAnyResult } from './report.js';

export function compareCommand(io: CliIO): Command {
  return new Command('compare')
    .description('two results side by side, changes marked; exit 1 on a regression past --max-regression')
    .argument('<base>', 'the result to compare against')
    .argument('<new>', 'the new result')
    .option(
      '--max-regression <share>',
      'largest change for the worse that is not a regression',
      parseFraction,
      0.1,
    )
    .addOption(new Option('--format <format>', 'table format').choices(['text', 'md']).default('text'))
    .action((baseFile: string, newFile: string, o: { maxRegression: number; format: 'text' | 'md' }) => {
      const base = runOf(readAnyResult(path.resolve(io.cwd, baseFile)));
      const next = runOf(readAnyResult(path.resolve(io.cwd, newFile)));
      if (base.info.command !== next.info.command) {
        throw new UserError(
          `${baseFile} is a ${base.info.command} result and ${newFile} a ${next.info.command} result`,
          'compare two results of the same command',
        );
      }
      const rows = compareResults(base, next, o.maxRegression);
      const names = { base: baseFile, next: newFile, maxRegression: o.maxRegression };
      io.stdout.write((o.format === 'md' ? compareMarkdown(rows, names) : compareText(rows, names)) + '\n');
      io.exit.code = rows.some((r) => r.verdict === 'regression') ? EXIT.failed : EXIT.ok;
    });
}

/** A suite is compared by its capacity stage. */
function runOf(doc: RunResult | SuiteResult): RunResult {
  if (!('kind' in doc && doc.kind === 'suite')) return doc as RunResult;
  if (!doc.capacity) throw new UserError('the suite result has no capacity stage to compare');
  return doc.capacity;
}
