// The live dashboard's page: figures and two charts that follow the run's events over SSE.
import { chartLibrary } from '../html/assets.js';
import { esc } from '../html/header.js';

const SCRIPT = String.raw`
(function () {
  'use strict';
  var rows = { t: [], active: [], failed: [], sent: [], recv: [], cpu: [] };
  var totals = { started: 0, failed: 0, sent: 0, recv: 0 };
  function el(id) { return document.getElementById(id); }
  function w() { return Math.max(280, el('charts').clientWidth - 8); }
  var mk = function (title, series, data) {
    var div = document.createElement('div'); el('charts').appendChild(div);
    return new uPlot({ title: title, width: w(), height: 220, scales: { x: { time: false } },
      series: [{ label: 's' }].concat(series) }, data, div);
  };
  var conn = mk('Open sessions and failures', [{ label: 'active', stroke: '#1565c0' }, { label: 'failed /s', stroke: '#c62828' }], [[], [], []]);
  var msgs = mk('Messages per second and generator CPU %', [{ label: 'sent', stroke: '#1565c0' }, { label: 'received', stroke: '#2e7d32' }, { label: 'CPU %', stroke: '#757575', dash: [4, 4] }], [[], [], [], []]);
  function onInterval(s) {
    rows.t.push(s.t); rows.active.push(s.active); rows.failed.push(s.failed);
    rows.sent.push(s.sent); rows.recv.push(s.recv); rows.cpu.push(s.cpuPct);
    totals.started += s.started; totals.failed += s.failed; totals.sent += s.sent; totals.recv += s.recv;
    el('active').textContent = String(s.active);
    el('started').textContent = String(totals.started);
    el('failed').textContent = String(totals.failed);
    el('sent').textContent = String(totals.sent);
    el('recv').textContent = String(totals.recv);
    el('updates').textContent = String(rows.t.length);
    conn.setData([rows.t, rows.active, rows.failed]);
    msgs.setData([rows.t, rows.sent, rows.recv, rows.cpu]);
  }
  var es = new EventSource('events');
  es.addEventListener('interval', function (e) { onInterval(JSON.parse(e.data)); });
  es.addEventListener('step', function (e) { var d = JSON.parse(e.data); el('step').textContent = d.text; });
  es.addEventListener('end', function (e) {
    var d = JSON.parse(e.data);
    el('state').textContent = 'run ended: exit ' + d.exitCode;
    document.body.setAttribute('data-ended', '1');
    es.close();
  });
  es.onerror = function () { if (!document.body.hasAttribute('data-ended')) el('state').textContent = 'disconnected'; };
})();
`;

export function dashboardPage(title: string): string {
  const lib = chartLibrary();
  const figure = (id: string, label: string): string =>
    `<div class="fig"><div class="n" id="${id}">0</div><div class="l">${label}</div></div>`;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${esc(title)}</title><style>${lib.css}` +
    `body{font:15px system-ui,sans-serif;margin:0;background:#f6f8fa}main{max-width:1100px;margin:0 auto;padding:12px}` +
    `.figs{display:flex;flex-wrap:wrap;gap:8px}.fig{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:8px 14px;min-width:110px}` +
    `.n{font-size:1.6em;font-weight:600}.l{color:#5f6b76;font-size:.85em}#charts{background:#fff;border:1px solid #d8dee4;border-radius:8px;margin-top:10px;padding:4px}` +
    `</style></head><body><main><h1>${esc(title)}</h1><p><span id="state">live</span> · <span id="step"></span> · updates <span id="updates">0</span></p>` +
    `<div class="figs">${figure('active', 'open now')}${figure('started', 'started')}${figure('failed', 'failed')}${figure('sent', 'messages sent')}${figure('recv', 'messages received')}</div>` +
    `<div id="charts"></div></main><script>${lib.js.replace(/<\/script/gi, '<\\/script')}</script><script>${SCRIPT}</script></body></html>\n`
  );
}
