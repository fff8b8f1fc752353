import type { AddressInfo } from 'node:net';
import { format } from 'node:util';

import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerDataStream,
  SMTPServerOptions,
  SMTPServerSession,
} from 'smtp-server';

import { type BridgeErrorCode, bridgeError } from '../../core/errors';
import { SenderPatterns } from '../../core/sender-pattern';
import type { Logger } from '../../core/log';
import type { EdgeConfig, SmtpUser } from '../config';
import type { EdgeEvents } from '../events';
import type { Forwarder } from '../forward/forwarder';
import type { ReplyHoldPolicy } from '../forward/reply-hold-policy';
import type { EnvelopeParts } from '../spool/intake-writer';
import type { Spool } from '../spool/spool';
import { ClientAllowList } from './client-allow-list';
import { ClientLimits } from './client-limits';
import { envelopeAddress, needsSmtpUtf8 } from './envelope-address';
import { LanSmtpServer } from './lan-smtp-server';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password-hash';
import { receiveMessage } from './receive-data';
import { SenderBindings } from './sender-bindings';
import { smtpReply } from './replies';
import { tlsServerOptions } from './tls-options';

export interface SmtpIntakeDeps {
  config: EdgeConfig;
  spool: Spool;
  forwarder: Forwarder;
  replyHold: ReplyHoldPolicy;
  tls: { key: string; cert: string };
  logger: Logger;
  events: EdgeEvents;
}

type Callback = (err?: Error | null) => void;

/**
 * The SMTP side of the listener: smtp-server (through LanSmtpServer) with our hooks. Everything a device
 * can be refused for is decided here, before a byte is stored: client address (554), per-address limits
 * and AUTH lockout (421), AUTH (535), envelope sender and SMTPUTF8 rules (550/553), spool space (452), size
 * (552, from SIZE=); DATA then goes to receiveMessage.
 */
export class SmtpIntake {
  readonly #d: SmtpIntakeDeps;
  readonly #allow: ClientAllowList;
  /** BRIDGE_SMTP_ALLOWED_SENDERS: envelope senders nobody expects are refused at MAIL FROM; empty: any. */
  readonly #senders: SenderPatterns;
  readonly #limits: ClientLimits;
  readonly #bindings: SenderBindings;
  readonly #users = new Map<string, SmtpUser>();
  readonly #counted = new Set<string>();
  readonly #servers: LanSmtpServer[] = [];

  constructor(deps: SmtpIntakeDeps) {
    this.#d = deps;
    const smtp = deps.config.smtp;
    this.#allow = new ClientAllowList(smtp.allowedClients);
    this.#senders = new SenderPatterns(smtp.allowedSenders);
    this.#limits = new ClientLimits(smtp);
    this.#bindings = new SenderBindings(smtp.senderBindings);
    for (const u of deps.config.auth.users) this.#users.set(u.name.toLowerCase(), u);
  }

  get activeConnections(): number {
    return this.#limits.activeConnections;
  }

  /** Starts the plain listener and, when configured, the implicit-TLS one; returns the bound ports. */
  async listen(): Promise<{ smtpPort: number; smtpsPort?: number }> {
    const { smtp } = this.#d.config;
    const plain = this.#create(false);
    const smtpPort = await listenOn(plain, smtp.port, smtp.host);
    if (smtp.smtpsPort === undefined) return { smtpPort };
    const secure = this.#create(true);
    return { smtpPort, smtpsPort: await listenOn(secure, smtp.smtpsPort, smtp.host) };
  }

  /** Stops accepting; sessions get until `timeoutMs` (then 421), a DATA in progress may finish. */
  async close(): Promise<void> {
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  #create(implicitTls: boolean): LanSmtpServer {
    const server = new LanSmtpServer(this.#options(implicitTls));
    server.on('error', (err: Error & { code?: string; meta?: { stage?: string } }) => {
      const tlsFailure = /TLS|SSL/i.test(`${err.code ?? ''} ${err.message}`) || err.meta?.stage === 'connect';
      this.#d.logger.warn(
        { event: tlsFailure ? 'TLS_HANDSHAKE_FAILED' : 'SMTP_ERROR', code: err.code, detail: err.message },
        tlsFailure ? 'TLS handshake failed' : 'SMTP socket error',
      );
    });
    this.#servers.push(server);
    return server;
  }

  #options(implicitTls: boolean): SMTPServerOptions {
    const { config } = this.#d;
    const { smtp, auth } = config;
    const disabled = [
      ...(auth.users.length === 0 ? ['AUTH'] : []),
      ...(smtp.starttls && !implicitTls ? [] : ['STARTTLS']),
    ];
    return {
      ...tlsServerOptions(this.#d.tls, config.tls.legacy),
      secure: implicitTls,
      name: smtp.hostname,
      banner: 'smtp-graph-bridge',
      size: smtp.maxMessageBytes,
      maxRecipients: smtp.maxRecipients,
      maxClients: smtp.maxConnections,
      socketTimeout: smtp.socketTimeoutMs,
      closeTimeout: config.shutdownTimeoutMs,
      // AUTH PLAIN with a 256-character name and a long password fits easily; longer lines are abuse (L1).
      maxCommandLength: 4096,
      disableReverseLookup: true,
      disabledCommands: disabled,
      authMethods: ['PLAIN', 'LOGIN'], // no CRAM-MD5: it needs clear passwords, and we store only hashes
      authOptional: !auth.required,
      allowInsecureAuth: auth.allowPlaintext,
      hideSTARTTLS: !smtp.starttls,
      logger: config.log.smtpTrace ? traceLogger(this.#d.logger) : false,
      onConnect: (session, cb) => this.#onConnect(session, cb),
      onClose: (session) => this.#onClose(session),
      onAuth: (a, session, cb) => void this.#onAuth(a, session, cb),
      onMailFrom: (address, session, cb) => this.#onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) => this.#onRcptTo(address, session, cb),
      onData: (stream, session, cb) => void this.#onData(stream, session, cb),
    };
  }

  #refuse(
    stage: 'connect' | 'auth' | 'mail' | 'rcpt',
    code: BridgeErrorCode,
    session: SMTPServerSession,
    cb: Callback,
    detail?: string,
  ): void {
    const err = bridgeError(code, detail === undefined ? {} : { detail });
    const event =
      stage === 'connect'
        ? 'SMTP_CONNECTION_REFUSED'
        : stage === 'auth'
          ? 'SMTP_AUTH_FAILED'
          : 'SMTP_MESSAGE_REFUSED';
    this.#d.logger.warn(
      {
        event,
        sid: session.id,
        client: session.remoteAddress,
        code,
        user: stage === 'auth' ? detail : undefined,
      },
      `${stage} refused`,
    );
    this.#d.events.emit('refused', { stage, code });
    cb(smtpReply(err));
  }

  #onConnect(session: SMTPServerSession, cb: Callback): void {
    const ip = session.remoteAddress;
    if (!this.#allow.allows(ip)) return this.#refuse('connect', 'CLIENT_NOT_ALLOWED', session, cb);
    if (this.#limits.authLocked(ip) || !this.#limits.opened(ip))
      return this.#refuse('connect', 'CLIENT_RATE_LIMITED', session, cb);
    this.#counted.add(session.id);
    this.#d.events.emit('connected', { tls: session.secure });
    this.#d.logger.debug(
      { event: 'SMTP_CONNECTION', sid: session.id, client: ip, tls: session.secure },
      'client connected',
    );
    cb();
  }

  #onClose(session: SMTPServerSession): void {
    if (this.#counted.delete(session.id)) this.#limits.closed(session.remoteAddress);
  }

  async #onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    cb: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): Promise<void> {
    const ip = session.remoteAddress;
    const name = auth.username ?? '';
    if (this.#limits.authLocked(ip)) return this.#refuse('auth', 'CLIENT_RATE_LIMITED', session, cb, name);
    const user = this.#users.get(name.toLowerCase());
    // Unknown names cost a full hash check too, so timing does not tell which names exist.
    const valid = await verifyPassword(
      auth.password ?? '',
      user?.passwordHash.reveal() ?? DUMMY_PASSWORD_HASH,
    ).catch(() => false);
    if (user && valid) {
      cb(null, { user: user.name });
      return;
    }
    const locked = this.#limits.authFailed(ip);
    this.#refuse('auth', locked ? 'CLIENT_RATE_LIMITED' : 'SMTP_AUTH_FAILED', session, cb, name);
  }

  #onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, cb: Callback): void {
    if (needsSmtpUtf8(address.address) && !session.envelope.smtpUtf8)
      return this.#refuse('mail', 'SMTPUTF8_REQUIRED', session, cb);
    if (!this.#senders.isEmpty && !this.#senders.matches(address.address))
      return this.#refuse('mail', 'ENVELOPE_SENDER_NOT_ALLOWED', session, cb);
    const declared = address.args ? Number(address.args.SIZE) || 0 : 0;
    const full = this.#d.spool.capacityProblem(declared);
    if (full) return this.#refuse('mail', 'SPOOL_FULL', session, cb, full.detail);
    cb();
  }

  #onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: Callback): void {
    if (needsSmtpUtf8(address.address) && !session.envelope.smtpUtf8)
      return this.#refuse('rcpt', 'SMTPUTF8_REQUIRED', session, cb);
    cb();
  }

  async #onData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    cb: (err?: Error | null, message?: string) => void,
  ): Promise<void> {
    const { config, spool, forwarder, replyHold, logger, events } = this.#d;
    const started = Date.now();
    const result = await receiveMessage(stream, session, this.#envelopeParts(session), {
      spool,
      forwarder,
      budgetMs: config.forward.budgetMs,
      replyHold,
      maxMessageBytes: config.smtp.maxMessageBytes,
      logger,
      events,
    });
    const code = 'error' in result ? result.error.responseCode : 250;
    events.emit('replied', {
      id: 'text' in result ? (/as (\S+)$/.exec(result.text)?.[1] ?? '') : '',
      code,
      durationMs: Date.now() - started,
    });
    if ('error' in result) cb(result.error);
    else cb(null, result.text);
  }

  #envelopeParts(session: SMTPServerSession): EnvelopeParts {
    const env = session.envelope;
    const parts: EnvelopeParts = {
      siteId: this.#d.config.siteId,
      mailFrom: env.mailFrom ? envelopeAddress(env.mailFrom.address) : '',
      rcptTo: env.rcptTo.map((r) => envelopeAddress(r.address)),
      clientAddress: session.remoteAddress,
      helo: session.hostNameAppearsAs || '',
    };
    if (typeof session.user === 'string' && session.user) parts.authUser = session.user;
    const binding = this.#bindings.forDevice(parts.authUser, session.remoteAddress);
    if (binding) parts.senderBinding = binding;
    return parts;
  }
}

function listenOn(server: LanSmtpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.server.once('error', onError);
    server.listen(port, host, () => {
      server.server.off('error', onError);
      resolve((server.server.address() as AddressInfo).port);
    });
  });
}

/** smtp-server's bunyan-style logger calls, as our events (only with BRIDGE_LOG_SMTP_TRACE). */
function traceLogger(logger: Logger) {
  const at =
    (level: 'debug' | 'info' | 'warn') =>
    (data: Record<string, unknown>, ...args: unknown[]) => {
      const { tnx, cid, user } = data ?? {};
      logger[level](
        { event: 'SMTP_TRACE', tnx, sid: cid, user },
        format(...(args as [unknown, ...unknown[]])),
      );
    };
  return {
    trace: at('debug'),
    debug: at('info'),
    info: at('info'),
    warn: at('warn'),
    error: at('warn'),
    fatal: at('warn'),
  };
}
