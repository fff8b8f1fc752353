/*
 * The sandbox part of the status page: the kept messages, and for the selected one its headers, its
 * attachments (downloads) and its body, shown in <iframe sandbox> — no scripts, no forms, an opaque origin —
 * as a document the server sanitized. The page's own CSP applies inside the frame as well.
 */
(function () {
  'use strict';
  var d = window.BridgeDom,
    api = window.BridgeApi;
  var $ = d.$,
    h = d.h,
    icon = d.icon,
    rel = d.rel,
    fmtBytes = d.fmtBytes;
  var API = api.API,
    request = api.request,
    download = api.download;
  var state = { sandbox: null, selected: null, previewFor: null };

  function renderSandbox(sb) {
    state.sandbox = sb;
    $('sandbox-count').textContent = sb.messages.length;
    if (sb.error) d.toast(sb.error, true);
    var list = $('sandbox-list');
    if (sb.messages.length === 0) {
      list.replaceChildren(h('li', { className: 'empty', text: 'No kept messages yet.' }));
    } else {
      list.replaceChildren.apply(
        list,
        sb.messages.map(function (m) {
          return h(
            'li',
            {
              'data-id': m.id,
              className: m.id === state.selected ? 'selected' : '',
              onclick: function () {
                select(m.id);
              },
            },
            [
              h('div', { className: 'subject', text: m.subject || '(no subject)' }),
              h('div', { className: 'row2' }, [
                h('span', {
                  className: 'addr',
                  text: (m.from || m.mailbox) + ' → ' + m.to.concat(m.cc).join(', '),
                }),
                rel(m.receivedAt, 'ago'),
              ]),
              m.attachments.length
                ? h('div', { className: 'clip' }, [
                    icon('clip'),
                    h('span', {
                      text: m.attachments
                        .map(function (a) {
                          return a.name;
                        })
                        .join(', '),
                    }),
                  ])
                : null,
            ],
          );
        }),
      );
    }
    if (!state.selected && sb.messages[0]) select(sb.messages[0].id);
    else if (state.selected) renderDetail(find(state.selected));
  }

  function find(id) {
    return state.sandbox
      ? state.sandbox.messages.filter(function (m) {
          return m.id === id;
        })[0]
      : undefined;
  }

  function select(id) {
    state.selected = id;
    document.querySelectorAll('#sandbox-list li').forEach(function (li) {
      li.classList.toggle('selected', li.getAttribute('data-id') === id);
    });
    renderDetail(find(id));
  }

  function renderDetail(m) {
    var pane = $('sandbox-detail');
    if (!m) {
      pane.replaceChildren(h('p', { className: 'empty', text: 'Select a message.' }));
      state.previewFor = null;
      return;
    }
    if (state.previewFor === m.id) return; // already shown; a kept message never changes
    state.previewFor = m.id;
    var rows = [
      ['From', m.from || '—'],
      ['Sent as', m.mailbox],
      ['To', m.to.join(', ') || '—'],
    ];
    if (m.cc.length) rows.push(['Cc', m.cc.join(', ')]);
    if (m.bcc.length) rows.push(['Bcc', m.bcc.join(', ')]);
    if (m.replyTo.length) rows.push(['Reply-To', m.replyTo.join(', ')]);
    rows.push(['Kept', new Date(m.receivedAt).toLocaleString() + ' · via ' + m.via]);
    var dl = h('dl', { className: 'headers' }, []);
    rows.forEach(function (r) {
      dl.appendChild(h('dt', { text: r[0] }));
      dl.appendChild(h('dd', { text: r[1] }));
    });
    var frame = h('iframe', { className: 'preview', title: 'Message body (sandboxed preview)' });
    frame.setAttribute('sandbox', ''); // no scripts, no forms, no navigation, opaque origin
    frame.setAttribute('referrerpolicy', 'no-referrer');
    pane.replaceChildren.apply(
      pane,
      [
        h('h3', { text: m.subject || '(no subject)' }),
        dl,
        m.attachments.length
          ? h(
              'div',
              { className: 'attachments' },
              m.attachments.map(function (a) {
                return h(
                  'button',
                  {
                    type: 'button',
                    className: 'attachment',
                    title: a.contentType + (a.isInline ? ' · inline' : ''),
                    'data-attachment': String(a.n),
                    onclick: function () {
                      download(API.attachment + '?id=' + encodeURIComponent(m.id) + '&n=' + a.n, a.name);
                    },
                  },
                  [
                    icon('file'),
                    h('span', { text: a.name }),
                    h('span', { className: 'size', text: fmtBytes(a.size) }),
                  ],
                );
              }),
            )
          : null,
        frame,
        h('div', { className: 'detail-foot' }, [
          h('span', {
            text:
              m.bodyType === 'html'
                ? 'HTML body, sanitized; scripts and remote content never load.'
                : 'Plain-text body.',
          }),
          h('button', {
            type: 'button',
            className: 'btn',
            text: 'Download .eml',
            onclick: function () {
              download(API.eml + '?id=' + encodeURIComponent(m.id), m.id + '.eml');
            },
          }),
        ]),
      ].filter(Boolean),
    );
    request(API.preview + '?id=' + encodeURIComponent(m.id))
      .then(function (res) {
        return res.ok ? res.text() : Promise.reject(new Error('HTTP ' + res.status));
      })
      .then(function (html) {
        if (state.previewFor === m.id) frame.srcdoc = html;
      })
      .catch(function (e) {
        if (e.message !== 'signin') frame.srcdoc = '<p>Preview unavailable.</p>';
      });
  }

  window.BridgeSandbox = { render: renderSandbox };
})();
