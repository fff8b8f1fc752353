/*
 * A small line chart in inline SVG for the status page (no library, no network). Built with DOM calls only
 * (createElementNS, textContent), so nothing in the data can become markup.
 */
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, String(attrs[k]));
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  /** 1, 2, 5 × 10^n at or above `max` / `steps`, so gridlines fall on round numbers. */
  function niceStep(max, steps) {
    var raw = Math.max(max, 1) / steps;
    var mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var norm = raw / mag;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  }

  /**
   * opts: { width, height, title, times: [ms], bucketMs, series: [{ key, label, values: [number|null], area }],
   *         formatY(v) -> string, integer: bool }
   */
  function render(container, opts) {
    var W = opts.width || 640,
      H = opts.height || 200;
    var n = opts.times.length;
    var max = 0;
    opts.series.forEach(function (s) {
      s.values.forEach(function (v) {
        if (v != null && v > max) max = v;
      });
    });
    var step = niceStep(max, 3);
    if (opts.integer) step = Math.max(1, Math.ceil(step));
    var top = Math.max(step, Math.ceil(max / step) * step);
    var format = function (v) {
      return opts.formatY ? opts.formatY(v) : String(v);
    };
    // Room on the left for the longest y label (about 6.5 px per character at 11 px).
    var pad = {
      left: Math.max(28, Math.ceil(format(top).length * 6.5) + 12),
      right: 12,
      top: 22,
      bottom: 24,
    };
    var innerW = W - pad.left - pad.right,
      innerH = H - pad.top - pad.bottom;
    var x = function (i) {
      return pad.left + (n <= 1 ? 0 : (i / (n - 1)) * innerW);
    };
    var y = function (v) {
      return pad.top + innerH - (v / top) * innerH;
    };

    var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'xMidYMid meet' });
    var title = el('text', { x: pad.left, y: 13, class: 'chart-title' }, svg);
    title.textContent = opts.title || '';

    for (var v = 0; v <= top + 1e-9; v += step) {
      el('line', { x1: pad.left, x2: W - pad.right, y1: y(v), y2: y(v), class: 'grid' }, svg);
      var label = el(
        'text',
        { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis-label' },
        svg,
      );
      label.textContent = format(v);
    }
    // x labels: minutes before now, every 5 minutes
    var perLabel = Math.max(1, Math.round(300000 / opts.bucketMs));
    for (var i = n - 1; i >= 0; i -= perLabel) {
      var ago = Math.round(((n - 1 - i) * opts.bucketMs) / 60000);
      var t = el(
        'text',
        { x: x(i), y: H - 6, 'text-anchor': i === n - 1 ? 'end' : 'middle', class: 'axis-label' },
        svg,
      );
      t.textContent = ago === 0 ? 'now' : '−' + ago + ' min';
    }

    opts.series.forEach(function (s) {
      var pts = [];
      s.values.forEach(function (v, i) {
        if (v != null) pts.push([x(i), y(v), v, i]);
      });
      if (pts.length === 0) return;
      var d = pts
        .map(function (p, i) {
          return (i === 0 ? 'M' : 'L') + p[0].toFixed(1) + ' ' + p[1].toFixed(1);
        })
        .join(' ');
      if (s.area) {
        el(
          'path',
          {
            d:
              d +
              ' L' +
              pts[pts.length - 1][0].toFixed(1) +
              ' ' +
              y(0) +
              ' L' +
              pts[0][0].toFixed(1) +
              ' ' +
              y(0) +
              ' Z',
            class: 'area s-' + s.key,
          },
          svg,
        );
      }
      el('path', { d: d, class: 'line s-' + s.key }, svg);
      pts.forEach(function (p) {
        if (p[2] === 0 && !s.showZero) return;
        var c = el('circle', { cx: p[0], cy: p[1], r: 2.6, class: 'point s-' + s.key }, svg);
        var tip = el('title', {}, c);
        tip.textContent =
          s.label + ': ' + format(p[2]) + ' (' + new Date(opts.times[p[3]]).toLocaleTimeString() + ')';
      });
    });
    container.replaceChildren(svg);
  }

  window.BridgeChart = { render: render };
})();
