// Charts of a broadcast run: who missed which code, and how long each code took to reach all.
import type { BroadcastVerdict, RunResult } from '../../contract.js';
import { COLORS, type Chart } from './spec.js';

export function broadcastCharts(r: RunResult<BroadcastVerdict>): Chart[] {
  const v = r.verdict;
  if (!v || v.codes === 0) return [];
  const listed = v.missed.length;
  const rows = v.perCode;
  return [
    {
      type: 'grid',
      id: 'delivery-map',
      title: 'Delivery map: clients × codes',
      note:
        v.missedClients === 0
          ? `Every connected client received every published code (${v.clients} clients × ${v.codes} codes).`
          : listed < v.missedClients
            ? `Red: missed. ${listed} of the ${v.missedClients} clients with misses are listed in the result (--list-limit); the others are drawn as received.`
            : `Red: missed (${v.missedPairs} client-code pairs, ${v.missedClients} clients).`,
      rows: v.clients,
      cols: v.codes,
      rowLabel: 'client',
      colLabel: 'code (publish order)',
      missed: v.missed.map((m) => [m.client, m.codes]),
    },
    {
      type: 'chart',
      id: 'delivery-spread',
      title: 'Delivery latency per code: first and last client, from the intended publish time',
      note: 'Bars: clients that missed the code (right axis).',
      x: rows.map((c) => c.index),
      xLabel: 'code (publish order)',
      yLabel: 'ms',
      y2Label: 'clients missing',
      series: [
        { label: 'first client', values: rows.map((c) => c.firstMs), color: COLORS.p50 },
        { label: 'last client', values: rows.map((c) => c.lastMs), color: COLORS.p99 },
        { label: 'missing', values: rows.map((c) => c.missing), color: COLORS.bad, kind: 'bars', axis: 1 },
      ],
    },
  ];
}
