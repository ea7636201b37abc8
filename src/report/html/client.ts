// The page's own script, inlined after uPlot: it draws the chart specs embedded in the page.
// It arranges values for drawing (stacking bars, scaling a grid to pixels) and computes no figure.
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('holdline-data').textContent);
  var plots = [];
  function finite(v) { return typeof v === 'number' && isFinite(v); }
  function widthOf(el) { return Math.max(280, Math.floor(el.clientWidth || 600)); }
  function heightFor(w) { return w < 500 ? 220 : 280; }

  function drawMarks(u, spec) {
    var ctx = u.ctx, b = u.bbox, dpr = devicePixelRatio || 1;
    ctx.save();
    ctx.lineWidth = 1.5 * dpr;
    ctx.font = (11 * dpr) + 'px sans-serif';
    (spec.hlines || []).forEach(function (m) {
      var y = u.valToPos(m.value, 'y', true);
      ctx.strokeStyle = m.color; ctx.fillStyle = m.color; ctx.setLineDash([6 * dpr, 4 * dpr]);
      ctx.beginPath(); ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y); ctx.stroke();
      ctx.fillText(m.label, b.left + 4 * dpr, y - 4 * dpr);
    });
    (spec.vlines || []).forEach(function (m, i) {
      var x = u.valToPos(m.value, 'x', true);
      if (!finite(x)) return;
      ctx.strokeStyle = m.color; ctx.fillStyle = m.color; ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
      ctx.fillText(m.label, x + 3 * dpr, b.top + (12 + 12 * (i % 3)) * dpr);
    });
    ctx.restore();
  }

  function drawBands(u, spec) {
    var ctx = u.ctx, b = u.bbox;
    ctx.save();
    ctx.fillStyle = 'rgba(239,108,0,0.16)';
    (spec.bands || []).forEach(function (band) {
      var x0 = u.valToPos(band.from, 'x', true), x1 = u.valToPos(band.to, 'x', true);
      ctx.fillRect(x0, b.top, Math.max(2, x1 - x0), b.height);
    });
    ctx.restore();
  }

  function lineChart(el, spec) {
    var plotEl = el.querySelector('.plot');
    var raw = spec.series.map(function (s) { return s.values; });
    var shown = raw.slice();
    var stacks = {};
    spec.series.forEach(function (s, i) {
      if (!s.stack) return;
      var below = stacks[s.stack];
      if (below) shown[i] = raw[i].map(function (v, k) { return (v || 0) + (below[k] || 0); });
      stacks[s.stack] = shown[i];
    });
    // Bars of a stack are drawn tallest first, so each class shows as its own band.
    var order = [], seen = {};
    spec.series.forEach(function (s, i) {
      if (!s.stack) { order.push(i); return; }
      if (seen[s.stack]) return;
      seen[s.stack] = true;
      var group = [];
      spec.series.forEach(function (t, j) { if (t.stack === s.stack) group.push(j); });
      order.push.apply(order, group.reverse());
    });
    var hasY2 = spec.series.some(function (s) { return s.axis === 1; });
    var barSize = spec.x.length > 200 ? [1, 6] : [0.6, 40];
    var series = [{ label: spec.xLabel }];
    order.forEach(function (i) {
      var s = spec.series[i];
      var o = { label: s.label, stroke: s.color, width: 1.5, scale: s.axis === 1 ? 'y2' : 'y', spanGaps: true,
        value: function (u, v, si, idx) { var r = raw[i][idx]; return idx == null || r == null ? '—' : (Math.round(r * 100) / 100).toString(); } };
      if (s.dash) o.dash = [5, 4];
      if (s.kind === 'bars') { o.paths = uPlot.paths.bars({ size: barSize }); o.fill = s.color + 'cc'; o.points = { show: false }; }
      else if (s.kind === 'points') { o.paths = function () { return null; }; o.points = { show: true, size: 8, fill: s.color }; }
      else o.points = { show: spec.x.length <= 40 };
      series.push(o);
    });
    var axes = [
      spec.xNames
        ? { label: spec.xLabel, size: 40, splits: function () { return spec.x; },
            values: function (u, splits) { return splits.map(function (i) { return spec.xNames[i] || ''; }); } }
        : { label: spec.xLabel, size: 40 },
      { label: spec.yLabel, scale: 'y', size: 56 },
    ];
    if (hasY2) axes.push({ label: spec.y2Label || '', scale: 'y2', side: 1, size: 56, grid: { show: false } });
    var w = widthOf(plotEl);
    var opts = {
      width: w, height: heightFor(w),
      scales: {
        x: spec.xNames ? { time: false, range: [-0.5, spec.x.length - 0.5] } : { time: false, distr: spec.xLog ? 3 : 1 },
        y: spec.yRange ? { range: spec.yRange } : { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.08 : 1]; } },
        y2: { range: function (u, min, max) { return [0, max > 0 ? max * 1.15 : 1]; } },
      },
      axes: axes,
      series: series,
      legend: { live: true },
      hooks: { drawClear: [function (u) { drawBands(u, spec); }], draw: [function (u) { drawMarks(u, spec); }] },
    };
    var rows = [spec.x].concat(order.map(function (i) { return shown[i]; }));
    var u = new uPlot(opts, rows, plotEl);
    plots.push({ u: u, el: plotEl });
    var points = 0;
    raw.forEach(function (vals) { vals.forEach(function (v) { if (finite(v)) points++; }); });
    el.setAttribute('data-points', String(points));
  }

  function gridChart(el, spec) {
    var plotEl = el.querySelector('.plot');
    var canvas = document.createElement('canvas');
    plotEl.appendChild(canvas);
    function draw() {
      var w = widthOf(plotEl) - 8;
      var cellW = Math.max(1, Math.min(24, Math.floor(w / spec.cols)));
      var maxH = 360;
      var rowsPerPx = Math.max(1, Math.ceil(spec.rows / maxH));
      var cellH = rowsPerPx > 1 ? 1 : Math.max(1, Math.min(14, Math.floor(maxH / spec.rows)));
      var pxRows = Math.ceil(spec.rows / rowsPerPx);
      var dpr = devicePixelRatio || 1;
      canvas.width = spec.cols * cellW * dpr; canvas.height = pxRows * cellH * dpr;
      canvas.style.width = spec.cols * cellW + 'px'; canvas.style.height = pxRows * cellH + 'px';
      var ctx = canvas.getContext('2d');
      ctx.scale(dpr, dpr);
      ctx.fillStyle = '#a5d6a7';
      ctx.fillRect(0, 0, spec.cols * cellW, pxRows * cellH);
      ctx.fillStyle = '#c62828';
      spec.missed.forEach(function (m) {
        var y = Math.floor(m[0] / rowsPerPx) * cellH;
        m[1].forEach(function (c) { ctx.fillRect(c * cellW, y, cellW, cellH); });
      });
      if (cellW >= 4 && cellH >= 4) {
        ctx.strokeStyle = 'rgba(255,255,255,0.6)'; ctx.lineWidth = 1;
        for (var c = 1; c < spec.cols; c++) { ctx.beginPath(); ctx.moveTo(c * cellW, 0); ctx.lineTo(c * cellW, pxRows * cellH); ctx.stroke(); }
      }
    }
    draw();
    plots.push({ redraw: draw });
    el.setAttribute('data-points', String(spec.rows * spec.cols));
  }

  document.querySelectorAll('.chart').forEach(function (el) {
    var spec = data.charts[el.getAttribute('data-chart')];
    if (!spec) { console.error('no data for chart ' + el.getAttribute('data-chart')); return; }
    if (spec.type === 'grid') gridChart(el, spec); else lineChart(el, spec);
  });

  var pending = 0;
  function resize() {
    plots.forEach(function (p) {
      if (p.redraw) p.redraw();
      else { var w = widthOf(p.el); p.u.setSize({ width: w, height: heightFor(w) }); }
    });
  }
  window.addEventListener('resize', function () { clearTimeout(pending); pending = setTimeout(resize, 100); });
  if (window.matchMedia) window.matchMedia('print').addListener(resize);
  document.body.setAttribute('data-drawn', String(plots.length));
})();
`;
