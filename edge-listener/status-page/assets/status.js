/*
 * Status page of smtp-graph-bridge: polls /status/api/snapshot every second and renders the spool — tiles,
 * activity chart, failed / waiting / recently finished messages with their actions — and hands the sandbox
 * part to sandbox-view.js. Plain scripts, no build: dom.js, api.js, chart.js, sandbox-view.js, then this one.
 *
 * Everything that comes from messages is put into the page with dom.js's helpers (textContent and DOM
 * attributes), never as HTML.
 */
(function () {
  'use strict';

  var d = window.BridgeDom,
    api = window.BridgeApi;
  var $ = d.$,
    h = d.h,
    rel = d.rel,
    pill = d.pill,
    toast = d.toast,
    fmtBytes = d.fmtBytes,
    fmtDuration = d.fmtDuration;
  var API = api.API,
    request = api.request;
  var POLL_MS = 1000;
  var state = { snapshot: null, rendered: {}, timer: null, lastOk: 0, signedOut: false };

  // ── sign-in (token) ─────────────────────────────────────────────────────────────────────────────────────
  function showSignin(reason) {
    state.signedOut = true;
    $('signin').hidden = false;
    $('content').hidden = true;
    $('signin-reason').textContent = reason;
    setLive('stale', 'signed out');
  }

  $('signin-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    api.setToken($('signin-token').value.trim());
    $('signin-token').value = '';
    state.signedOut = false;
    $('signin').hidden = true;
    poll();
  });

  // ── polling ─────────────────────────────────────────────────────────────────────────────────────────────
  function setLive(kind, text) {
    $('live-indicator').className = 'live ' + kind;
    $('live-text').textContent = text;
  }

  function poll() {
    clearTimeout(state.timer);
    request(API.snapshot)
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (snapshot) {
        state.lastOk = Date.now();
        $('error-banner').hidden = true;
        render(snapshot);
        setLive('ok', 'live');
      })
      .catch(function (e) {
        if (e.message === 'signin') return;
        setLive('stale', 'reconnecting…');
        if (Date.now() - state.lastOk > 5000) {
          $('error-banner').textContent =
            'The edge listener does not answer (' + e.message + '). Is it running?';
          $('error-banner').hidden = false;
        }
      })
      .then(function () {
        if (!state.signedOut) state.timer = setTimeout(poll, POLL_MS);
      });
  }

  /** Re-renders a section only when its data changed, so rows (and their buttons) stay put between polls. */
  function changed(key, value) {
    var json = JSON.stringify(value);
    if (state.rendered[key] === json) return false;
    state.rendered[key] = json;
    return true;
  }

  function render(s) {
    state.snapshot = s;
    $('content').hidden = false;
    $('site-name').textContent = 'site ' + s.site + ' · ' + s.instance;
    var badge = $('mode-badge');
    badge.hidden = false;
    badge.className = 'mode-badge ' + s.mode;
    badge.textContent = s.mode === 'sandbox' ? 'Sandbox mode' : 'Live';
    $('sandbox-banner').hidden = s.mode !== 'sandbox';

    renderTiles(s);
    if (changed('activity', s.activity)) renderCharts(s.activity);
    if (changed('failed', s.failed)) renderFailed(s.failed);
    if (changed('waiting', s.waiting)) renderWaiting(s.waiting);
    if (changed('recent', s.recent)) renderRecent(s.recent);
    $('sandbox-card').hidden = !s.sandbox;
    if (s.sandbox && changed('sandbox', s.sandbox)) window.BridgeSandbox.render(s.sandbox);
    $('footer-text').textContent =
      'Spool ' +
      fmtBytes(s.spool.bytes) +
      ' of ' +
      fmtBytes(s.spool.quotaBytes) +
      ' · updated ' +
      new Date(s.generatedAt).toLocaleTimeString();
    d.refreshRelative();
  }

  function renderTiles(s) {
    var d = s.spool.depth;
    $('tile-queued').textContent = d.queued;
    $('tile-inflight').textContent = d.inflight;
    $('tile-cloud').textContent = d.cloud || 0;
    $('tile-deferred').textContent = d.deferred;
    $('tile-failed').textContent = d.failed;
    $('tile-done').textContent = d.done;
    $('tile-smtp').textContent = s.smtp.connections;
    $('tile-smtp-sub').textContent = 'open · port ' + s.smtp.port;
    $('tile-deferred-sub').textContent =
      s.spool.oldestWaitingAgeMs > 0
        ? 'oldest waits ' + fmtDuration(s.spool.oldestWaitingAgeMs)
        : 'retrying with backoff';
    document.querySelector('[data-tile="failed"]').classList.toggle('alert', d.failed > 0);
  }

  function renderCharts(activity) {
    var b = activity.buckets;
    var times = b.map(function (x) {
      return x.t;
    });
    var minutes = Math.round((b.length * activity.bucketMs) / 60000);
    $('activity-window').textContent =
      '· last ' + minutes + ' min, per ' + Math.round(activity.bucketMs / 1000) + ' s';
    window.BridgeChart.render($('chart-counts'), {
      width: 720,
      height: 210,
      title: 'Messages',
      times: times,
      bucketMs: activity.bucketMs,
      integer: true,
      series: [
        {
          key: 'accepted',
          label: 'accepted',
          area: true,
          values: b.map(function (x) {
            return x.accepted;
          }),
        },
        {
          key: 'sent',
          label: 'sent',
          values: b.map(function (x) {
            return x.sent;
          }),
        },
        {
          key: 'deferred',
          label: 'deferred',
          values: b.map(function (x) {
            return x.deferred;
          }),
        },
        {
          key: 'failed',
          label: 'failed',
          values: b.map(function (x) {
            return x.failed;
          }),
        },
      ],
    });
    window.BridgeChart.render($('chart-latency'), {
      width: 360,
      height: 210,
      title: 'Delivery latency (mean per interval)',
      times: times,
      bucketMs: activity.bucketMs,
      formatY: function (v) {
        return v >= 1000 ? (v / 1000).toFixed(v >= 10000 ? 0 : 1) + ' s' : Math.round(v) + ' ms';
      },
      series: [
        {
          key: 'latency',
          label: 'mean latency',
          showZero: true,
          values: b.map(function (x) {
            return x.latencyAvgMs == null ? null : x.latencyAvgMs;
          }),
        },
      ],
    });
  }

  // ── tables ──────────────────────────────────────────────────────────────────────────────────────────────
  function table(headers, rows, emptyText) {
    if (rows.length === 0) return h('p', { className: 'empty', text: emptyText });
    return h('table', { className: 'list' }, [
      h('thead', {}, [
        h(
          'tr',
          {},
          headers.map(function (x) {
            return h('th', { className: x.className, text: x.text });
          }),
        ),
      ]),
      h('tbody', {}, rows),
    ]);
  }

  function messageCell(e) {
    var to =
      e.rcptTo.join(', ') +
      (e.rcptCount > e.rcptTo.length ? ' (+' + (e.rcptCount - e.rcptTo.length) + ')' : '');
    return h('td', {}, [
      h('div', {
        className: 'subject',
        title: e.subject || '',
        text: e.subject === undefined ? '(subject not recorded)' : e.subject || '(no subject)',
      }),
      h('div', {
        className: 'addr',
        title: (e.mailFrom || '<>') + ' → ' + to,
        text: (e.mailFrom || '<>') + ' → ' + to,
      }),
      h('div', { className: 'id', title: 'spool id', text: e.id }),
      // After an admin resubmission the function knows the message under a new id (<spool id>.r<n>).
      e.submissionId && e.submissionId !== e.id
        ? h('div', {
            className: 'id',
            title: 'submission id at the function',
            text: 'submitted as ' + e.submissionId,
          })
        : null,
    ]);
  }

  function errorBlock(err) {
    if (!err) return h('span', { className: 'muted', text: '—' });
    var meta = [];
    if (err.graph)
      meta.push(
        'Graph ' +
          err.graph.status +
          (err.graph.code ? ' ' + err.graph.code : '') +
          (err.graph.requestId ? ' · request-id ' + err.graph.requestId : ''),
      );
    if (err.detail && err.message.indexOf(err.detail) < 0) meta.push(err.detail);
    return h('div', { className: 'reason' }, [
      h('div', {}, [h('span', { className: 'code', text: err.code }), ' ', err.message]),
      err.hint ? h('div', { className: 'hint', text: err.hint }) : null,
      meta.length ? h('div', { className: 'meta', text: meta.join(' · ') }) : null,
    ]);
  }

  function actionButtons(e, retryText) {
    return h('td', { className: 'actions' }, [
      h('button', {
        type: 'button',
        className: 'btn',
        text: retryText,
        'data-action': 'retry',
        'data-id': e.id,
        onclick: function (ev) {
          act('retry', e, ev.currentTarget);
        },
      }),
      h('button', {
        type: 'button',
        className: 'btn btn-danger',
        text: 'Delete',
        'data-action': 'delete',
        'data-id': e.id,
        onclick: function (ev) {
          act('delete', e, ev.currentTarget);
        },
      }),
    ]);
  }

  function act(kind, e, button, force) {
    if (
      kind === 'delete' &&
      !window.confirm('Delete this message from the spool? It will not be sent.\n\n' + (e.subject || e.id))
    )
      return;
    button.disabled = true;
    api
      .postAction(kind === 'retry' ? API.retry : API.remove, e.id, force)
      .then(function (r) {
        // The outcome is unknown (Graph may have sent it): resubmit only after the admin confirms.
        if (!r.ok && r.status === 409 && r.body.code === 'RESUBMIT_MAY_DUPLICATE') {
          button.disabled = false;
          if (
            window.confirm(
              'This message may already have been sent (its outcome is unknown). Sending it again may ' +
                'deliver it twice. ' +
                (r.body.hint || '') +
                '\n\nSend it again anyway?\n\n' +
                (e.subject || e.id),
            )
          )
            act(kind, e, button, true);
          return;
        }
        if (r.ok)
          toast(
            kind === 'retry'
              ? 'Retrying ' + (e.subject || e.id) + ' now.'
              : 'Deleted ' + (e.subject || e.id) + '.',
          );
        else
          toast(
            (kind === 'retry' ? 'Retry' : 'Delete') + ' failed: ' + (r.body.error || 'HTTP ' + r.status),
            true,
          );
        poll();
      })
      .catch(function (err) {
        if (err.message !== 'signin') toast('Action failed: ' + err.message, true);
        button.disabled = false;
      });
  }

  function renderFailed(list) {
    $('failed-count').textContent = list.length;
    $('failed-list').replaceChildren(
      table(
        [
          { text: 'Message' },
          { text: 'Reason' },
          { text: 'Failed' },
          { text: 'Attempts', className: 'num' },
          { text: 'Size', className: 'num' },
          { text: '' },
        ],
        list.map(function (e) {
          return h('tr', { 'data-id': e.id }, [
            messageCell(e),
            h('td', {}, [errorBlock(e.error)]),
            h('td', { className: 'when' }, [rel(e.failedAt, 'ago')]),
            h('td', { className: 'num', text: e.attempts }),
            h('td', { className: 'num', text: fmtBytes(e.bytes) }),
            actionButtons(e, 'Retry'),
          ]);
        }),
        'No failed messages.',
      ),
    );
  }

  function renderWaiting(list) {
    $('waiting-count').textContent = list.length;
    $('waiting-list').replaceChildren(
      table(
        [
          { text: 'Message' },
          { text: 'State' },
          { text: 'Next attempt' },
          { text: 'Last error' },
          { text: 'Attempts', className: 'num' },
          { text: 'Received' },
          { text: '' },
        ],
        list.map(function (e) {
          return h('tr', { 'data-id': e.id }, [
            messageCell(e),
            h('td', {}, [
              e.state === 'cloud'
                ? pill('queued-cloud', 'queued in the cloud')
                : pill(e.state, e.state === 'inflight' ? 'in flight' : e.state),
            ]),
            // In the cloud: the cloud's own next try when it said, else the edge's next read of its state.
            h('td', { className: 'when' }, [
              e.state === 'inflight'
                ? h('span', { text: 'now' })
                : rel((e.cloudQueue && e.cloudQueue.nextAttemptAt) || e.nextAttemptAt, 'in'),
            ]),
            h('td', {}, [errorBlock(e.error || (e.cloudQueue && e.cloudQueue.checkError))]),
            h('td', { className: 'num', text: e.attempts }),
            h('td', { className: 'when' }, [rel(e.receivedAt, 'ago')]),
            e.state === 'inflight' ? h('td', {}) : actionButtons(e, 'Retry now'),
          ]);
        }),
        'Nothing waiting: every message has been handed over.',
      ),
    );
  }

  function cloudCell(e) {
    var c = e.cloud;
    if (!c)
      return h('td', {}, [
        h('span', { className: 'muted', text: e.outcome === 'rejected' ? 'the device got the 5xx' : '—' }),
      ]);
    if (c.kind === 'checking') return h('td', {}, [pill('checking', 'checking…')]);
    if (c.kind === 'unavailable')
      return h('td', {}, [pill('unknown', 'unknown'), h('div', { className: 'addr', text: c.reason })]);
    return h('td', {}, [
      pill(c.state === 'queued' ? 'queued-cloud' : c.state, c.state),
      c.graphRequestId
        ? h('div', { className: 'id', title: 'Graph request id', text: 'request-id ' + c.graphRequestId })
        : null,
      c.error ? errorBlock(c.error) : null,
    ]);
  }

  function renderRecent(list) {
    $('recent-count').textContent = list.length;
    $('recent-list').replaceChildren(
      table(
        [
          { text: 'Message' },
          { text: 'Edge outcome' },
          { text: 'Cloud now' },
          { text: 'Sent as' },
          { text: 'Finished' },
        ],
        list.map(function (e) {
          var r = e.result || {};
          return h('tr', { 'data-id': e.id }, [
            messageCell(e),
            h('td', {}, [
              pill(e.outcome || 'unknown', e.outcome === 'queued' ? 'queued in cloud' : e.outcome),
              r.error ? errorBlock(r.error) : null,
            ]),
            cloudCell(e),
            h('td', { className: 'addr', text: r.sender || '—' }),
            h('td', { className: 'when' }, [rel(e.completedAt, 'ago')]),
          ]);
        }),
        'No finished messages yet. Send one: swaks --server <this host>:' +
          (state.snapshot ? state.snapshot.smtp.port : 2525) +
          ' --to you@example.com --attach file.pdf',
      ),
    );
  }

  api.onUnauthorized(showSignin);
  setInterval(d.refreshRelative, 1000);
  poll();
})();
