/*
 * How the status page talks to the listener: the admin API paths, the admin token (kept for this browser tab
 * only), and downloads that carry the token too.
 */
(function () {
  'use strict';
  var h = window.BridgeDom.h;

  var API = {
    snapshot: '/status/api/snapshot',
    retry: '/status/api/retry',
    remove: '/status/api/delete',
    preview: '/status/api/sandbox/preview',
    attachment: '/status/api/sandbox/attachment',
    eml: '/status/api/sandbox/eml',
  };
  var TOKEN_KEY = 'smtp-graph-bridge.admin-token';
  var handlers = { unauthorized: function () {} };

  function token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (e) {
      return '';
    }
  }

  function request(path, options) {
    options = options || {};
    var headers = Object.assign({}, options.headers || {});
    if (token()) headers.Authorization = 'Bearer ' + token();
    return fetch(path, {
      method: options.method || 'GET',
      headers: headers,
      body: options.body,
      cache: 'no-store',
      credentials: 'same-origin',
    }).then(function (res) {
      if (res.status === 401) {
        return res
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            handlers.unauthorized(body.error || 'Not authorised.');
            throw new Error('signin');
          });
      }
      return res;
    });
  }

  function postAction(path, id, force) {
    return request(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(force ? { id: id, force: true } : { id: id }),
    }).then(function (res) {
      return res
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          return { ok: res.ok, status: res.status, body: body };
        });
    });
  }

  function setToken(value) {
    try {
      sessionStorage.setItem(TOKEN_KEY, value);
    } catch (e) {
      /* private mode: the token lasts for this page only */
    }
  }

  /** Downloads through fetch (so the admin token goes along), then hands the file to the browser. */
  function download(url, name) {
    request(url)
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.blob();
      })
      .then(function (blob) {
        var a = h('a', { download: name });
        a.href = URL.createObjectURL(blob);
        document.body.appendChild(a);
        a.click();
        setTimeout(function () {
          URL.revokeObjectURL(a.href);
          a.remove();
        }, 1000);
      })
      .catch(function (e) {
        if (e.message !== 'signin') window.BridgeDom.toast('Download failed: ' + e.message, true);
      });
  }

  window.BridgeApi = {
    API: API,
    request: request,
    postAction: postAction,
    download: download,
    setToken: setToken,
    /** Called with the reason when the listener asks for the admin token. */
    onUnauthorized: function (fn) {
      handlers.unauthorized = fn;
    },
  };
})();
