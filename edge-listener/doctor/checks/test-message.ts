import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import type { DiagnosticsReport } from '../../../core/diagnostics';
import {
  BridgeError,
  isBridgeErrorCode,
  serializeBridgeError,
  type SerializedBridgeError,
} from '../../../core/errors';
import { WIRE_PATH, type WireResult } from '../../../core/wire';
import type { EdgeConfig } from '../../config';
import { type CheckResult, fail, pass } from '../check-result';
import type { DoctorOptions } from '../doctor-options';
import { explainFailure } from '../explain-failure';
import { signedGet } from '../function-requests';
import { localAddressOf, SmtpSession, type SmtpReply } from '../smtp-session';

const ID = 'test-message';
/** Retryable by design (a misconfiguration must not bounce mail), but they will not clear up while we wait. */
const NEEDS_ADMIN = new Set([
  'GRAPH_ACCESS_DENIED',
  'GRAPH_SEND_AS_DENIED',
  'GRAPH_TOKEN_FAILED',
  'CONFIG_INVALID',
  'SITE_SIGNATURE_INVALID',
  'SITE_UNKNOWN',
]);
const POLL_MS = 500;
const SMTP_SERVER_REPLIES: Record<number, string> = { 530: 'SMTP_AUTH_REQUIRED', 535: 'SMTP_AUTH_FAILED' };
const AUTH_FIX =
  'The listener requires SMTP AUTH: run doctor with --user NAME and the password in BRIDGE_TEST_SMTP_PASSWORD (or the variable named by --password-env).';

/**
 * A real message through every hop: SMTP to the listener (as a device would send it), the listener's
 * forwarder, the function, Microsoft Graph. Then follows its state on the function until Graph accepted it.
 */
export async function testMessageCheck(
  config: EdgeConfig,
  report: DiagnosticsReport | undefined,
  options: DoctorOptions & { sendTo: string },
): Promise<CheckResult> {
  const from =
    options.from ??
    report?.policy.defaultSender ??
    report?.policy.allowedSenders.find((s) => !s.startsWith('*'));
  const title = `A test message reaches Microsoft Graph (to ${options.sendTo})`;
  if (!from)
    return fail(
      ID,
      title,
      'No sender address for the test message: the site has no default sender and no single allowed sender.',
      'Run doctor --send-to ADDRESS --from SENDER with a mailbox the site may send as.',
    );
  const started = Date.now();
  let reply: SmtpReply;
  try {
    reply = await submit(config, from, options);
  } catch (e) {
    return fail(
      ID,
      title,
      `The test message could not be submitted over SMTP: ${(e as Error).message}.`,
      'See the SMTP checks above; the listener must be running and accept this machine.',
    );
  }
  const accepted = /(sent|queued) as (\S+)/.exec(reply.lines.join(' '));
  if (reply.code !== 250 || !accepted?.[2]) return refused(title, reply, from, report);
  const id = accepted[2];
  const deadline = started + options.testTimeoutMs;
  let last: WireResult | undefined;
  for (;;) {
    last = await status(config, id, options.timeoutMs).catch(() => last);
    if (last?.state === 'sent') {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      return pass(
        ID,
        title,
        `Microsoft Graph accepted message ${id} from ${last.sender ?? from} to ${options.sendTo} (request id ${last.graphRequestId ?? '?'}) ${seconds} s after it was submitted over SMTP. Delivery itself happens after Graph's 202: check the recipient's inbox (or the sender's for a non-delivery report).`,
        { id, sender: last.sender, graphRequestId: last.graphRequestId },
      );
    }
    // While queued the cloud's last error is `lastError` (core/wire.ts); `error` is a final failure's.
    const cloudError = last?.error ?? last?.lastError;
    if (last?.state === 'failed' || (cloudError && NEEDS_ADMIN.has(cloudError.code)) || Date.now() > deadline)
      break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const error = last?.error ?? last?.lastError;
  const where = last
    ? `state ${last.state} on the function`
    : "not (yet) known to the function — it is still in the listener's spool";
  if (error) {
    const x = explainFailure(error, {
      mailbox: last?.sender ?? from,
      permission: 'Mail.Send',
      app: report?.app,
      siteId: config.siteId,
    });
    return fail(
      ID,
      title,
      `Message ${id} was not sent (${where}): ${x.summary}`,
      `${x.fix} The message is kept and retried unless it failed for good; see \`queue show ${id}\`.`,
      { id, state: last?.state, code: error.code },
    );
  }
  return fail(
    ID,
    title,
    `Message ${id} was not sent within ${Math.round(options.testTimeoutMs / 1000)} s (${where}).`,
    `Look at the message with \`queue show ${id}\` and on the status page; run doctor again to see which hop fails.`,
    { id, state: last?.state },
  );
}

async function submit(
  config: EdgeConfig,
  from: string,
  options: DoctorOptions & { sendTo: string },
): Promise<SmtpReply> {
  const host = localAddressOf(config.smtp.host);
  const session = await SmtpSession.open({ host, port: config.smtp.port, timeoutMs: options.timeoutMs });
  try {
    if (session.greeting.code !== 220) return session.greeting;
    let ehlo = await session.command('EHLO doctor.localhost');
    if (ehlo.lines.some((l) => l.toUpperCase() === 'STARTTLS')) {
      await session.startTls(host);
      ehlo = await session.command('EHLO doctor.localhost');
    }
    if (options.auth) {
      const plain = Buffer.from(`\0${options.auth.user}\0${options.auth.password}`).toString('base64');
      const auth = await session.command(`AUTH PLAIN ${plain}`);
      if (auth.code !== 235) return auth;
    }
    for (const line of [`MAIL FROM:<${from}>`, `RCPT TO:<${options.sendTo}>`]) {
      const r = await session.command(line);
      if (r.code !== 250) return r;
    }
    return await session.data(testMessage(config, from, options.sendTo));
  } finally {
    await session.close();
  }
}

function testMessage(config: EdgeConfig, from: string, to: string): string {
  const domain = from.slice(from.lastIndexOf('@') + 1) || 'localhost';
  return [
    `From: <${from}>`,
    `To: <${to}>`,
    `Subject: smtp-graph-bridge doctor test from site ${config.siteId}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <doctor-${randomBytes(8).toString('hex')}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `This is a test message sent by "doctor" on ${hostname()} through the edge listener of site ${config.siteId}.`,
    'It went device-style over SMTP to the listener, then to the Azure Function, then to Microsoft Graph.',
    '',
  ].join('\r\n');
}

async function status(config: EdgeConfig, id: string, timeoutMs: number): Promise<WireResult | undefined> {
  const path = `${WIRE_PATH}/${encodeURIComponent(id)}`;
  const answer = await signedGet(config, path, { messageId: id, timeoutMs });
  const body = answer.json as WireResult | undefined;
  return body && typeof body.state === 'string' && body.id === id && answer.status !== 404 ? body : undefined;
}

/** The listener answered the test message with an error reply: `550 5.7.1 SENDER_NOT_ALLOWED … (id …)`. */
function refused(
  title: string,
  reply: SmtpReply,
  from: string,
  report: DiagnosticsReport | undefined,
): CheckResult {
  const text = reply.lines.join(' ');
  // Our replies carry the error code; smtp-server's own AUTH replies do not.
  const code = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/.exec(text)?.[0] ?? SMTP_SERVER_REPLIES[reply.code];
  const error: SerializedBridgeError | undefined = isBridgeErrorCode(code)
    ? serializeBridgeError(new BridgeError(code))
    : undefined;
  if (!error)
    return fail(
      ID,
      title,
      `The listener refused the test message: ${reply.code} ${text}.`,
      'See the SMTP checks above (allowed clients, AUTH) and the listener log.',
      { reply: `${reply.code} ${text}` },
    );
  const x = error.code.startsWith('SMTP_AUTH_')
    ? { summary: error.message, fix: `${AUTH_FIX} ${error.hint}` }
    : explainFailure(error, { mailbox: from, app: report?.app });
  return fail(
    ID,
    title,
    `The listener refused the test message: ${reply.code} ${text}. ${x.summary}`,
    x.fix,
    { reply: `${reply.code} ${text}`, code: error.code },
  );
}
