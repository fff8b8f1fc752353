/*
 * DOM helpers of the status page. Everything that comes from messages (subjects, addresses, file names,
 * error details) goes into the page through these — textContent and attribute values set by the DOM API,
 * never HTML — so no message can add markup or script to the page.
 */
(function () {
  'use strict';

  function $(id) {
    return document.getElementById(id);
  }

  /** h('td', { className: 'x', title: 't' }, [child, 'text']) — strings become text nodes. */
  function h(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      var v = props[k];
      if (v == null) return;
      if (k === 'className') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k === 'onclick') node.addEventListener('click', v);
      else if (k.indexOf('data-') === 0 || k === 'title' || k === 'type' || k === 'aria-label')
        node.setAttribute(k, v);
      else node[k] = v;
    });
    (children || []).forEach(function (c) {
      if (c == null || c === false) return;
      node.appendChild(
        typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c,
      );
    });
    return node;
  }

  function fmtBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    if (n < 1024 * 1024 * 1024) return (n / 1024 / 1024).toFixed(1) + ' MB';
    return (n / 1024 / 1024 / 1024).toFixed(2) + ' GB';
  }

  function fmtDuration(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60 ? (s % 60) + ' s' : '');
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }

  /** A time that stays current: refreshRelative() rewrites it every second without re-rendering rows. */
  function rel(iso, mode) {
    return h('span', {
      className: 'rel',
      'data-at': iso,
      'data-mode': mode,
      title: iso ? new Date(iso).toLocaleString() : '',
    });
  }

  function refreshRelative() {
    var now = Date.now();
    document.querySelectorAll('.rel').forEach(function (node) {
      var at = Date.parse(node.getAttribute('data-at') || '');
      if (isNaN(at)) {
        node.textContent = '—';
        return;
      }
      var diff = at - now;
      if (node.getAttribute('data-mode') === 'in')
        node.textContent = diff < 1000 ? 'due now' : 'in ' + fmtDuration(diff);
      else node.textContent = diff > -1500 ? 'just now' : fmtDuration(diff) + ' ago';
    });
  }

  var ICONS = {
    clip: 'M16.5 6.5l-7.8 7.8a2.5 2.5 0 003.5 3.5l8.1-8.1a4.5 4.5 0 00-6.4-6.4L5.6 11.6a6.5 6.5 0 009.2 9.2l6.7-6.7',
    file: 'M14 3H7a2 2 0 00-2 2v14a2 2 0 002 2h10a2 2 0 002-2V8zM14 3v5h5',
  };

  /** A small stroke icon as inline SVG (emoji fonts are not on every server a browser may run). */
  function icon(name) {
    var NS = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', 'icon');
    svg.setAttribute('aria-hidden', 'true');
    var path = document.createElementNS(NS, 'path');
    path.setAttribute('d', ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function pill(kind, text) {
    return h('span', { className: 'pill pill-' + kind, text: text || kind });
  }

  function toast(text, isError) {
    var t = $('toast');
    t.textContent = text;
    t.className = 'toast' + (isError ? ' error' : '');
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () {
      t.hidden = true;
    }, 4000);
  }

  window.BridgeDom = {
    $: $,
    h: h,
    fmtBytes: fmtBytes,
    fmtDuration: fmtDuration,
    rel: rel,
    refreshRelative: refreshRelative,
    icon: icon,
    pill: pill,
    toast: toast,
  };
})();
