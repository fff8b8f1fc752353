import type { X509Certificate } from 'node:crypto';

import type { EdgeConfig } from '../../config';
import { type CheckResult, fail, pass } from '../check-result';
import { localAddressOf, SmtpError, SmtpSession } from '../smtp-session';

/** What the SMTP probe saw, for the certificate check. */
export interface SmtpFacts {
  listening: boolean;
  /** EHLO keywords, upper-case (STARTTLS, SIZE 36700160, AUTH PLAIN LOGIN…). */
  extensions: string[];
  /** The certificate the listener served on STARTTLS or implicit TLS. */
  certificate?: X509Certificate;
  /** Why no certificate could be read from the live listener. */
  tlsProblem?: string;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Connects to one SMTP port of the listener the way a device does: greeting, EHLO, STARTTLS (or implicit
 * TLS on the SMTPS port). Any greeting proves the port is served; a 554 greeting means this machine is not
 * in BRIDGE_ALLOWED_CLIENTS, which is fine for devices that are.
 */
export async function smtpListeningCheck(
  config: EdgeConfig,
  port: number,
  implicitTls: boolean,
  timeoutMs: number,
): Promise<{ result: CheckResult; facts: SmtpFacts }> {
  const id = implicitTls ? 'smtps-listening' : 'smtp-listening';
  const title = `${implicitTls ? 'SMTPS (implicit TLS)' : 'SMTP'} port ${port} is listening`;
  const host = localAddressOf(config.smtp.host);
  let session: SmtpSession;
  try {
    session = await SmtpSession.open({ host, port, implicitTls, timeoutMs });
  } catch (e) {
    const code = e instanceof SmtpError ? (e.code ?? '') : '';
    const facts: SmtpFacts = { listening: false, extensions: [] };
    if (code === 'ETIMEDOUT') {
      return {
        result: fail(
          id,
          title,
          `Something accepted the connection to ${host}:${port} but sent no SMTP greeting within ${timeoutMs} ms.`,
          `Another program may hold port ${port}, or the listener is overloaded; check what listens there (ss -ltnp / netstat -ano) and the listener's log.`,
        ),
        facts,
      };
    }
    return {
      result: fail(
        id,
        title,
        `Nothing answers on ${host}:${port} (${code || (e as Error).message}): the edge listener is not running, or it listens on another address or port.`,
        `Start the edge listener (service, container or \`npm run edge\`) and look for HOST_STARTED in its log; BRIDGE_SMTP_HOST and ${implicitTls ? 'BRIDGE_SMTPS_PORT' : 'BRIDGE_SMTP_PORT'} must match what devices use.`,
      ),
      facts,
    };
  }
  try {
    return await converse(session, config, { id, title, host, port, implicitTls });
  } finally {
    await session.close();
  }
}

async function converse(
  session: SmtpSession,
  config: EdgeConfig,
  t: { id: string; title: string; host: string; port: number; implicitTls: boolean },
): Promise<{ result: CheckResult; facts: SmtpFacts }> {
  const greeting = `${session.greeting.code} ${session.greeting.lines[0] ?? ''}`.trim();
  const facts: SmtpFacts = { listening: true, extensions: [] };
  const reach = LOOPBACK.has(config.smtp.host)
    ? ` It listens on ${config.smtp.host} only, so devices on the network cannot reach it; set BRIDGE_SMTP_HOST=0.0.0.0 and list them in BRIDGE_ALLOWED_CLIENTS.`
    : '';
  if (session.greeting.code !== 220) {
    facts.tlsProblem = `the greeting was ${session.greeting.code}`;
    const why =
      session.greeting.code === 554
        ? ' (this machine is not in BRIDGE_ALLOWED_CLIENTS; allowed devices get 220)'
        : '';
    return {
      result: pass(t.id, t.title, `${t.host}:${t.port} answers "${greeting}"${why}.${reach}`, { greeting }),
      facts,
    };
  }
  const ehlo = await session.command('EHLO doctor.localhost');
  facts.extensions = ehlo.lines.slice(1).map((l) => l.toUpperCase());
  if (t.implicitTls) facts.certificate = session.peerCertificate();
  else if (facts.extensions.includes('STARTTLS')) {
    try {
      const reply = await session.startTls(t.host);
      if (reply.code === 220) facts.certificate = session.peerCertificate();
      else facts.tlsProblem = `STARTTLS answered ${reply.code} ${reply.lines.join(' ')}`;
    } catch (e) {
      facts.tlsProblem = `the TLS handshake failed: ${(e as Error).message}`;
    }
  } else facts.tlsProblem = 'STARTTLS is not offered';
  const shown = facts.extensions.filter((x) => /^(STARTTLS|SIZE|AUTH)\b/.test(x)).join(', ');
  return {
    result: pass(
      t.id,
      t.title,
      `${t.host}:${t.port} answers "${greeting}"${shown ? `; offers ${shown}` : ''}.${reach}`,
      { greeting, extensions: facts.extensions },
    ),
    facts,
  };
}
