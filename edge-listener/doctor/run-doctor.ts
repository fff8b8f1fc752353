import type { DiagnosticsReport } from '../../core/diagnostics';
import type { LoadResult } from '../config';
import { type CheckResult, skip } from './check-result';
import { cloudStorageCheck } from './checks/cloud-storage';
import { configValidCheck } from './checks/config-valid';
import { functionAnswersCheck } from './checks/function-answers';
import { functionDnsCheck } from './checks/function-dns';
import { functionTlsCheck } from './checks/function-tls';
import { graphTokenCheck } from './checks/graph-token';
import { mailReadWritePermissionCheck } from './checks/mail-readwrite-permission';
import { sentItemsLookupCheck } from './checks/sent-items-lookup';
import { mailSendPermissionCheck } from './checks/mail-send-permission';
import { senderMailboxChecks } from './checks/sender-mailboxes';
import { siteSignatureCheck } from './checks/site-signature';
import { smtpCertificateCheck } from './checks/smtp-certificate';
import { type SmtpFacts, smtpListeningCheck } from './checks/smtp-listening';
import { testMessageCheck } from './checks/test-message';
import { trustChecks } from './checks/trust-settings';
import type { DoctorOptions } from './doctor-options';

export interface DoctorReport {
  /** True when no check failed (skipped checks do not count against it). */
  healthy: boolean;
  time: string;
  site?: string;
  functionUrl?: string;
  /** Set when the settings were not the process's own (e.g. the running `npm start` stack). */
  configSource?: string;
  /** warn: passed with a warning (counts as healthy). */
  counts: { pass: number; fail: number; skip: number; warn: number };
  checks: CheckResult[];
}

/**
 * Walks every hop in the order a message takes — configuration, SMTP intake, TLS, the function URL, the
 * site's signature, the Graph token and permissions, each sender mailbox, optionally a real message — and
 * reports each as passed, failed (with the fix) or skipped because an earlier hop failed.
 */
export async function runDoctor(loaded: LoadResult, options: DoctorOptions): Promise<DoctorReport> {
  const now = options.now ?? (() => new Date());
  const checks: CheckResult[] = [];
  const finish = (): DoctorReport => report(checks, now(), loaded);

  const { result: configResult, config } = configValidCheck(loaded);
  checks.push(configResult);
  if (!config) {
    checks.push(
      skip('smtp-listening', 'SMTP intake', 'Not checked: the configuration is invalid.'),
      skip('function-answers', 'Function and Microsoft 365', 'Not checked: the configuration is invalid.'),
    );
    return finish();
  }

  const facts: SmtpFacts[] = [];
  const plain = await smtpListeningCheck(config, config.smtp.port, false, options.timeoutMs);
  checks.push(plain.result);
  facts.push(plain.facts);
  if (config.smtp.smtpsPort) {
    const smtps = await smtpListeningCheck(config, config.smtp.smtpsPort, true, options.timeoutMs);
    checks.push(smtps.result);
    facts.push(smtps.facts);
  }
  checks.push(smtpCertificateCheck(config, facts, now(), options.certMinDays));

  const reached = await functionHops(config.forward.url, options, checks);
  let diagnostics: DiagnosticsReport | undefined;
  if (reached) {
    const extra = options.from ? [options.from] : [];
    const signed = await siteSignatureCheck(config, extra, options.timeoutMs);
    checks.push(signed.result);
    diagnostics = signed.report;
  } else {
    checks.push(
      skip(
        'site-signature',
        "The function accepts this site's key and signature",
        'Not checked: the function is not reachable.',
      ),
    );
  }
  if (diagnostics) {
    checks.push(
      cloudStorageCheck(diagnostics),
      graphTokenCheck(diagnostics),
      mailSendPermissionCheck(diagnostics),
      mailReadWritePermissionCheck(config, diagnostics),
      sentItemsLookupCheck(diagnostics),
      ...senderMailboxChecks(diagnostics),
    );
  } else {
    checks.push(
      skip(
        'graph-token',
        'Microsoft Graph token, permissions and sender mailboxes',
        'Not checked: the function did not accept the diagnostics request.',
      ),
    );
  }

  checks.push(...trustChecks(config, diagnostics));

  if (options.sendTo) {
    const ready = plain.facts.listening && diagnostics !== undefined;
    checks.push(
      ready
        ? await testMessageCheck(config, diagnostics, { ...options, sendTo: options.sendTo })
        : skip(
            'test-message',
            `A test message reaches Microsoft Graph (to ${options.sendTo})`,
            'Not sent: an earlier hop failed.',
          ),
    );
  }
  return finish();
}

/** DNS → TLS → liveness; each needs the previous one. Returns whether the function answered. */
async function functionHops(url: string, options: DoctorOptions, checks: CheckResult[]): Promise<boolean> {
  const dns = await functionDnsCheck(url);
  checks.push(dns);
  if (dns.status === 'fail') {
    checks.push(
      skip('function-tls', 'TLS to the function verifies', 'Not checked: the host name does not resolve.'),
      skip('function-answers', 'The function app answers', 'Not checked: the host name does not resolve.'),
    );
    return false;
  }
  const tls = await functionTlsCheck(url, options.timeoutMs);
  checks.push(tls);
  if (tls.status === 'fail') {
    checks.push(
      skip('function-answers', 'The function app answers', 'Not checked: no verified TLS connection.'),
    );
    return false;
  }
  const answers = await functionAnswersCheck(url, options.timeoutMs);
  checks.push(answers);
  return answers.status === 'pass';
}

function report(checks: CheckResult[], now: Date, loaded: LoadResult): DoctorReport {
  const counts = { pass: 0, fail: 0, skip: 0, warn: 0 };
  for (const c of checks) counts[c.status]++;
  const out: DoctorReport = { healthy: counts.fail === 0, time: now.toISOString(), counts, checks };
  if ('config' in loaded) {
    out.site = loaded.config.siteId;
    out.functionUrl = loaded.config.forward.url;
  }
  return out;
}
