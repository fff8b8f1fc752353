import type { SandboxRoute } from './options';

/** Which sandbox route a request is, with its path parameters. Pure: method + path in, route out. */
export interface RouteMatch {
  route: SandboxRoute;
  tenant?: string;
  /** The {id} of /users/{id}: an address or an object id, URL-decoded. */
  mailbox?: string;
  messageId?: string;
  sessionId?: string;
  /** The mail folder of GET …/mailFolders/{folder}/messages (well-known name or id). */
  folder?: string;
}

const TABLE: Array<{ method: string; pattern: RegExp; route: SandboxRoute; keys: Array<keyof RouteMatch> }> =
  [
    {
      method: 'GET',
      pattern: /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/,
      route: 'openid',
      keys: ['tenant'],
    },
    { method: 'GET', pattern: /^\/([^/]+)\/discovery\/v2\.0\/keys$/, route: 'jwks', keys: ['tenant'] },
    { method: 'POST', pattern: /^\/([^/]+)\/oauth2\/v2\.0\/token$/, route: 'token', keys: ['tenant'] },
    { method: 'GET', pattern: /^\/([^/]+)\/v2\.0\/adminconsent$/, route: 'adminConsent', keys: ['tenant'] },
    { method: 'GET', pattern: /^\/v1\.0\/users\/([^/]+)$/, route: 'getUser', keys: ['mailbox'] },
    {
      method: 'GET',
      pattern: /^\/v1\.0\/users\/([^/]+)\/(?:mailFolders\/([^/]+)\/)?messages$/i,
      route: 'listMessages',
      keys: ['mailbox', 'folder'],
    },
    { method: 'POST', pattern: /^\/v1\.0\/users\/([^/]+)\/sendMail$/i, route: 'sendMail', keys: ['mailbox'] },
    {
      method: 'POST',
      pattern: /^\/v1\.0\/users\/([^/]+)\/messages$/,
      route: 'createMessage',
      keys: ['mailbox'],
    },
    {
      method: 'DELETE',
      pattern: /^\/v1\.0\/users\/([^/]+)\/messages\/([^/]+)$/,
      route: 'deleteMessage',
      keys: ['mailbox', 'messageId'],
    },
    {
      method: 'POST',
      pattern: /^\/v1\.0\/users\/([^/]+)\/messages\/([^/]+)\/send$/,
      route: 'send',
      keys: ['mailbox', 'messageId'],
    },
    {
      method: 'POST',
      pattern: /^\/v1\.0\/users\/([^/]+)\/messages\/([^/]+)\/attachments$/,
      route: 'addAttachment',
      keys: ['mailbox', 'messageId'],
    },
    {
      method: 'POST',
      pattern: /^\/v1\.0\/users\/([^/]+)\/messages\/([^/]+)\/attachments\/createUploadSession$/,
      route: 'createUploadSession',
      keys: ['mailbox', 'messageId'],
    },
    {
      method: 'PUT',
      pattern: /^\/api\/v2\.0\/Users\('[^']+'\)\/Messages\('([^']+)'\)\/AttachmentSessions\('([^']+)'\)$/,
      route: 'uploadChunk',
      keys: ['messageId', 'sessionId'],
    },
    {
      method: 'GET',
      pattern: /^\/api\/v2\.0\/Users\('[^']+'\)\/Messages\('([^']+)'\)\/AttachmentSessions\('([^']+)'\)$/,
      route: 'uploadStatus',
      keys: ['messageId', 'sessionId'],
    },
    {
      method: 'DELETE',
      pattern: /^\/api\/v2\.0\/Users\('[^']+'\)\/Messages\('([^']+)'\)\/AttachmentSessions\('([^']+)'\)$/,
      route: 'uploadCancel',
      keys: ['messageId', 'sessionId'],
    },
  ];

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function matchRoute(method: string, pathname: string): RouteMatch {
  if (pathname.startsWith('/_sandbox/')) return { route: 'admin' };
  for (const row of TABLE) {
    if (row.method !== method) continue;
    const m = row.pattern.exec(pathname);
    if (!m) continue;
    const out: RouteMatch = { route: row.route };
    row.keys.forEach((k, i) => {
      const v = m[i + 1];
      if (v !== undefined) (out as unknown as Record<string, string>)[k] = decode(v);
    });
    return out;
  }
  return { route: 'unknown' };
}
