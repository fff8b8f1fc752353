import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Recipient } from '@microsoft/microsoft-graph-types';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { BridgeError } from '../../../core/errors';
import type { DeliveryPlan } from '../../../functions/delivery/delivery-plan';
import { planDelivery } from '../../../functions/mime/plan';
import { CORPUS_EXCEPTIONS } from './corpus-exceptions';
import {
  DEVICE_MAIL_FROM,
  expectedFileName,
  expectedName,
  expectedRecipients,
  expectedReplyTo,
  expectedSubject,
  key,
  sha256,
  syntheticEnvelope,
} from './corpus-expectations';
import { corpusDir, describeWithTool, hasTool } from '../../helpers/tool-groups';
import { pythonReference, type PyMessage } from './python-reference';

/**
 * Every file of the shared MIME corpus goes through planDelivery with a synthetic envelope, and the plan is
 * compared with an independent reading of the same bytes by CPython's stdlib `email` package
 * (test/fixtures/python-mime-reference.py): subject, recipients = envelope, attachment bytes by SHA-256,
 * names, Content-IDs, forwarded messages by content digest, S/MIME bytes unchanged. Differences the two
 * parsers legitimately have are listed per file, with the reason, in corpus-exceptions.ts.
 */

/** Third-party files beside the checkout: an optional test group (test/helpers/mime-corpus.ts), present in CI. */
const CORPUS_DIR = corpusDir();
const RELAY = 'relay@bridge-test.example';
const POLICY = { allowedSenders: ['*@bridge-test.example'], defaultSender: RELAY };
const OPAQUE_TYPES = [
  'multipart/signed',
  'multipart/encrypted',
  'application/pkcs7-mime',
  'application/x-pkcs7-mime',
];

interface ManifestRow {
  file: string;
  bytes: number;
  sha256Prefix: string;
}

function readManifest(): ManifestRow[] {
  const [head, ...lines] = readFileSync(join(CORPUS_DIR, 'MANIFEST.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const columns = (head ?? '').split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    const cell = (name: string) => cells[columns.indexOf(name)] ?? '';
    return { file: cell('file'), bytes: Number(cell('bytes')), sha256Prefix: cell('sha256_16') };
  });
}

interface Outcome {
  envelope: string[];
  plan?: DeliveryPlan;
  error?: unknown;
  /** Second-pass paths of the plan's message/* attachments, by attachment index. */
  embedded: Map<number, string>;
  mimePath?: string;
}

const manifest = hasTool('mime-corpus') ? readManifest() : [];
const reference: Record<string, PyMessage> = {};
const outcomes = new Map<string, Outcome>();
let secondPass: Record<string, PyMessage> = {};
let workDir = '';

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'mime-corpus-'));
  Object.assign(reference, pythonReference(manifest.map((r) => join(CORPUS_DIR, r.file))));
  const second: string[] = [];
  for (const [n, { file }] of manifest.entries()) {
    const ref = reference[join(CORPUS_DIR, file)];
    const envelope = syntheticEnvelope(ref?.to ?? [], ref?.cc ?? []);
    const outcome: Outcome = { envelope, embedded: new Map() };
    outcomes.set(file, outcome);
    const mime = readFileSync(join(CORPUS_DIR, file));
    const wireEnvelope = {
      messageId: `corpus-${String(n).padStart(4, '0')}`,
      siteId: 'hq',
      mailFrom: DEVICE_MAIL_FROM,
      rcptTo: envelope,
      clientAddress: '127.0.0.1',
      helo: 'scanner.site.example',
      receivedAt: '2026-01-15T10:00:00Z',
    };
    try {
      outcome.plan = await planDelivery(mime, wireEnvelope, POLICY);
    } catch (err) {
      outcome.error = err;
      continue;
    }
    for (const [i, attachment] of outcome.plan.attachments.entries()) {
      if (!attachment.contentType.startsWith('message/')) continue;
      const path = join(workDir, `${n}-${i}.eml`);
      writeFileSync(path, attachment.content);
      outcome.embedded.set(i, path);
      second.push(path);
    }
    if (outcome.plan.mime !== undefined) {
      outcome.mimePath = join(workDir, `${n}-mime.eml`);
      writeFileSync(outcome.mimePath, outcome.plan.mime);
      second.push(outcome.mimePath);
    }
  }
  secondPass = pythonReference(second);
}, 120_000);

afterAll(() => {
  if (workDir !== '') rmSync(workDir, { recursive: true, force: true });
});

const addresses = (list: Recipient[] | null | undefined): string[] =>
  (list ?? []).map((r) => key(r.emailAddress?.address ?? ''));

describeWithTool('mime-corpus', 'the shared MIME corpus through planDelivery', () => {
  it('reads all 141 files the manifest lists, byte for byte', () => {
    expect(manifest).toHaveLength(141);
    for (const row of manifest) {
      const path = join(CORPUS_DIR, row.file);
      expect(existsSync(path), row.file).toBe(true);
      const bytes = readFileSync(path);
      expect(bytes.length, row.file).toBe(row.bytes);
      expect(sha256(bytes).slice(0, 16), row.file).toBe(row.sha256Prefix);
    }
  });

  it.each(manifest.map((r) => r.file))(
    '%s is planned as the reference parser reads it, or refused as documented',
    (file) => {
      const ref = reference[join(CORPUS_DIR, file)];
      const outcome = outcomes.get(file);
      const exception = CORPUS_EXCEPTIONS[file];
      expect(ref?.error, 'reference parser').toBeUndefined();
      if (ref === undefined || outcome === undefined) throw new Error('not processed');

      if (exception?.rejected !== undefined) {
        expect(outcome.error).toBeInstanceOf(BridgeError);
        expect((outcome.error as BridgeError).code).toBe(exception.rejected);
        return;
      }
      expect(outcome.error).toBeUndefined();
      const plan = outcome.plan as DeliveryPlan;

      // Sender: no corpus sender is allowed, so the default mailbox sends and replies go to the original sender.
      expect(plan.mailbox).toBe(RELAY);
      expect(plan.senderRewritten).toBe(true);
      expect(plan.saveToSentItems).toBe(true);
      // Delivery set = envelope, exactly.
      expect([...plan.recipients].map(key).sort()).toEqual([...outcome.envelope].sort());
      const recipients = expectedRecipients(outcome.envelope, ref.to, ref.cc);
      const replyTo = expectedReplyTo(ref.replyTo, ref.from);
      expect(plan.kind).toBe(OPAQUE_TYPES.includes(ref.contentType) ? 'mime' : 'json');

      if (plan.kind === 'mime') {
        const sent = secondPass[outcome.mimePath ?? ''];
        if (sent === undefined) throw new Error('no second pass for the MIME bytes');
        expect(sent.subject).toBe(ref.subject);
        expect(sent.digest).toEqual(ref.digest); // every part byte-identical
        expect({
          to: sent.to.map((m) => key(m.address)),
          cc: sent.cc.map((m) => key(m.address)),
          bcc: sent.bcc.map((m) => key(m.address)),
        }).toEqual(recipients);
        expect(sent.from.map((m) => key(m.address))).toEqual([RELAY]);
        expect(sent.replyTo.map((m) => key(m.address))).toEqual(replyTo);
        const original = readFileSync(join(CORPUS_DIR, file));
        expect(bodyOf(plan.mime ?? Buffer.alloc(0)).equals(bodyOf(original))).toBe(true);
        expect(plan.attachments).toEqual([]);
        return;
      }

      const message = plan.message;
      if (message === undefined) throw new Error('json plan without message');
      expect(message.subject).toBe(exception?.subject ?? expectedSubject(ref.subject));
      expect({
        to: addresses(message.toRecipients),
        cc: addresses(message.ccRecipients),
        bcc: addresses(message.bccRecipients),
      }).toEqual(recipients);
      for (const [header, list] of [
        [ref.to, message.toRecipients],
        [ref.cc, message.ccRecipients],
      ] as const) {
        for (const r of list ?? []) {
          const original = header.find((m) => key(m.address) === key(r.emailAddress?.address ?? ''));
          if (original !== undefined)
            expect(r.emailAddress?.name ?? undefined).toBe(expectedName(original.name, original.address));
        }
      }
      expect(message.from?.emailAddress?.address).toBe(RELAY);
      expect(message.from?.emailAddress?.name).toMatch(/ via bridge$/);
      expect(addresses(message.replyTo)).toEqual(replyTo);
      const html = message.body?.contentType === 'html';
      expect(html, 'HTML body').toBe(ref.bodyTypes.includes('text/html'));

      if (exception?.attachments !== undefined) {
        expect(
          plan.attachments.map((a) => ({ name: a.name, contentType: a.contentType, sha: sha256(a.content) })),
        ).toEqual(
          exception.attachments.map((a) => ({
            name: a.name,
            contentType: a.contentType,
            sha: sha256(a.content),
          })),
        );
        return;
      }
      expect(plan.attachments.map((a) => a.contentType)).toHaveLength(ref.parts.length);
      for (const [i, part] of ref.parts.entries()) {
        const attachment = plan.attachments[i];
        if (attachment === undefined) throw new Error(`attachment ${i} missing`);
        if (part.kind === 'leaf') {
          expect(sha256(attachment.content), `bytes of part ${i}`).toBe(part.sha256);
        } else {
          expect(secondPass[outcome.embedded.get(i) ?? '']?.digest, `embedded message ${i}`).toEqual(
            part.digest,
          );
        }
        const name = exception?.names?.[i] ?? expectedFileName(part.filename, part.contentType, i + 1);
        if (typeof name === 'string') expect(attachment.name, `name of part ${i}`).toBe(name);
        else expect(attachment.name, `name of part ${i}`).toMatch(name);
        expect(attachment.contentId, `Content-ID of part ${i}`).toBe(part.contentId ?? undefined);
        // Inline exactly when the HTML body shows it through a cid: reference.
        const content = message.body?.content ?? '';
        const referenced =
          attachment.contentId !== undefined &&
          html &&
          content.toLowerCase().includes(`cid:${attachment.contentId.toLowerCase()}`);
        expect(attachment.isInline, `isInline of part ${i}`).toBe(referenced);
      }
    },
  );
});

/** Everything after the first blank line: the part of an S/MIME message the bridge must not touch. */
function bodyOf(mime: Buffer): Buffer {
  const text = mime.toString('latin1');
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  const end = lf >= 0 && (crlf < 0 || lf < crlf) ? lf + 2 : crlf + 4;
  return mime.subarray(end);
}
