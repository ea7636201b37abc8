import type { TaskRow } from '../contract.js';

// `holdline plan` (and the plan stage of `holdline suite`): pure rows in, text out.

const int = (n: number): string => n.toLocaleString('en-US');
const dec = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 4 });

/**
 * The arithmetic of every row and the command that scales the service to it. `source` says where
 * the per-task figure came from ("given with --per-task", "confirmed by the sustained test", …).
 */
export function renderPlan(rows: TaskRow[], source: string, command: (tasks: number) => string): string {
  return rows.length === 1 ? renderOne(rows[0], source, command) : renderTable(rows, source, command);
}

function renderOne(r: TaskRow, source: string, command: (n: number) => string): string {
  const factor = dec(1 + r.buffer);
  return [
    `${int(r.target)} connections at ${int(r.perTask)} per task (${source}), ${dec(r.buffer * 100)}% buffer:`,
    '',
    `  ${int(r.target)} / ${int(r.perTask)} = ${dec(r.base)} tasks`,
    `  ${dec(r.base)} × ${factor} = ${dec(r.exact)} → ${r.tasks} tasks (room for ${int(r.capacity)} connections)`,
    '',
    `Tasks needed: ${r.tasks}`,
    '',
    `  ${command(r.tasks)}`,
    '',
  ].join('\n');
}

function renderTable(rows: TaskRow[], source: string, command: (n: number) => string): string {
  const factor = dec(1 + rows[0].buffer);
  const head = ['target', 'target / per task', `× ${factor}`, 'tasks', 'room for'];
  const body = rows.map((r) => [int(r.target), dec(r.base), dec(r.exact), String(r.tasks), int(r.capacity)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ')}`;
  return [
    `${int(rows[0].perTask)} connections per task (${source}), ${dec(rows[0].buffer * 100)}% buffer:`,
    '',
    line(head),
    ...body.map(line),
    '',
    ...rows.flatMap((r) => [`  # ${int(r.target)} connections`, `  ${command(r.tasks)}`]),
    '',
  ].join('\n');
}
