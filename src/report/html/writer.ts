import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunResult, SuiteResult } from '../../contract.js';
import { HoldlineError } from '../../errors.js';
import type { Out, Reporter } from '../reporter.js';
import { renderPage, runPage, suitePage } from './page.js';

/** `capacity-<id>.json` → `capacity-<id>.html`, beside it. */
export function htmlPathFor(resultFile: string): string {
  return resultFile.replace(/\.json$/i, '') + '.html';
}

/** The report page of a saved run or suite (pure: result in, HTML out). */
export function renderReport(doc: RunResult | SuiteResult, resultFile?: string): string {
  const name = resultFile ? path.basename(resultFile) : undefined;
  return renderPage(
    'kind' in doc && doc.kind === 'suite' ? suitePage(doc, name) : runPage(doc as RunResult, name),
  );
}

/** Writes the report beside its result file, atomically; returns its path. */
export function writeHtmlReport(resultFile: string, doc: RunResult | SuiteResult): string {
  const file = htmlPathFor(resultFile);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, renderReport(doc, resultFile));
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new HoldlineError('report_write', `cannot write the report ${file}: ${(err as Error).message}`);
  }
  return file;
}

/** At the end of a run, `report.html` beside the JSON result; its path on stderr. */
export class HtmlReportWriter implements Reporter {
  constructor(
    private readonly resultFile: () => string,
    private readonly err: Out,
    private readonly cwd: string,
  ) {}

  runEnd(result: RunResult): void {
    const file = writeHtmlReport(this.resultFile(), result);
    this.err.write(`report: ${path.relative(this.cwd, file) || file}\n`);
  }
}
