import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { EdgeConfig } from '../../config';
import { type CheckResult, fail, pass, skip } from '../check-result';
import type { SmtpFacts } from './smtp-listening';

const ID = 'smtp-tls-certificate';
const TITLE = 'TLS certificate of the SMTP listener is valid';
const DAY_MS = 86_400_000;

/**
 * The certificate devices get on STARTTLS / SMTPS: within its dates and not about to expire. Taken from the
 * live listener when it answered, else from the file it would load (configured, or the one it generated
 * under BRIDGE_DATA_DIR/tls). Self-signed is normal on a LAN: most devices do not verify.
 */
export function smtpCertificateCheck(
  config: EdgeConfig,
  facts: SmtpFacts[],
  now: Date,
  minDays: number,
): CheckResult {
  const tlsOffered =
    config.smtp.starttls || (config.smtp.smtpsPort !== undefined && config.smtp.smtpsPort !== 0);
  if (!tlsOffered)
    return skip(
      ID,
      TITLE,
      'TLS is not offered (BRIDGE_SMTP_STARTTLS=false and no BRIDGE_SMTPS_PORT), so devices send in the clear.',
    );
  const configured = config.tls.certFile !== undefined;
  const live = facts.find((f) => f.certificate)?.certificate;
  let cert = live;
  let source = 'served by the listener';
  if (!cert) {
    const file = config.tls.certFile ?? join(config.dataDir, 'tls', 'cert.pem');
    try {
      cert = new X509Certificate(readFileSync(file));
      source = `read from ${file} (the listener did not serve one: ${
        facts
          .map((f) => f.tlsProblem)
          .filter(Boolean)
          .join('; ') || 'not running'
      })`;
    } catch (e) {
      return skip(
        ID,
        TITLE,
        `No certificate to check: the listener served none and ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). The listener generates one at its first start.`,
      );
    }
  }
  const validFrom = new Date(cert.validFrom);
  const validTo = new Date(cert.validTo);
  const daysLeft = Math.floor((validTo.getTime() - now.getTime()) / DAY_MS);
  const subject = cert.subject.replace(/\n/g, ', ');
  const selfSigned = cert.issuer === cert.subject;
  const details = {
    source: live ? 'listener' : 'file',
    subject,
    issuer: cert.issuer.replace(/\n/g, ', '),
    validFrom: validFrom.toISOString(),
    validTo: validTo.toISOString(),
    daysLeft,
    selfSigned,
    fingerprint256: cert.fingerprint256,
  };
  const fix = configured
    ? 'Renew the certificate, replace the files named by BRIDGE_TLS_CERT_FILE and BRIDGE_TLS_KEY_FILE, and restart the listener.'
    : `Restart the listener: it replaces its generated certificate when fewer than 30 days remain (to force a new one, delete ${join(config.dataDir, 'tls')} first).`;
  if (validFrom.getTime() > now.getTime()) {
    return fail(
      ID,
      TITLE,
      `The certificate (${subject}) is not valid before ${validFrom.toISOString()}: devices that check dates refuse it. Is this machine's clock right?`,
      `Check the clock (NTP). ${fix}`,
      details,
    );
  }
  if (daysLeft < 0) {
    return fail(
      ID,
      TITLE,
      `The certificate (${subject}) expired on ${validTo.toISOString().slice(0, 10)}: devices that check it refuse TLS and may stop sending.`,
      fix,
      details,
    );
  }
  if (daysLeft < minDays) {
    return fail(
      ID,
      TITLE,
      `The certificate (${subject}) expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'}, on ${validTo.toISOString().slice(0, 10)}.`,
      fix,
      details,
    );
  }
  const nameNote = nameMismatch(cert, config.smtp.hostname);
  return pass(
    ID,
    TITLE,
    `${selfSigned ? 'Self-signed certificate' : 'Certificate'} ${subject}, ${source}, valid until ${validTo.toISOString().slice(0, 10)} (${daysLeft} days).${nameNote}`,
    details,
  );
}

function nameMismatch(cert: X509Certificate, hostname: string): string {
  if (!hostname || cert.checkHost(hostname) !== undefined) return '';
  return ` It does not name ${hostname}, the listener's host name (BRIDGE_SMTP_HOSTNAME); devices that verify the name will refuse it.`;
}
