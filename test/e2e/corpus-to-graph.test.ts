import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it, vi } from 'vitest';

import type { WireResult } from '../../core/wire';
import { CORPUS_EXCEPTIONS } from '../functions/mime/corpus-exceptions';
import {
  DEVICE_MAIL_FROM,
  expectedFileName,
  expectedRecipients,
  expectedReplyTo,
  expectedSubject,
  key,
  looksDeliverable,
  sha256,
} from '../functions/mime/corpus-expectations';
import { pythonReference, type PyMessage } from '../functions/mime/python-reference';
import {
  mapConcurrent,
  messagesFor,
  startFunctionStack,
  type FunctionStack,
} from '../helpers/e2e-function-stack';
import { corpusDir, describeWithTool, hasTool } from '../helpers/tool-groups';
import type { SandboxMessage } from '../../dev/graph-sandbox/options';

/**
 * Every file of the shared MIME corpus through the real function path: a signed frame POSTed to the local
 * function host (real handler, Table Storage idempotency, queue trigger on Azurite), then what REACHES the
 * fake Graph — not the plan — is compared with CPython's independent reading of the original
 * (test/fixtures/python-mime-reference.py): subject, recipients = envelope, attachment bytes by SHA-256,
 * names, Content-IDs and inline flags. Files the bridge refuses must get 422 with the documented code and
 * nothing at Graph. The per-file differences between the two parsers are the unit corpus test's list
 * (corpus-exceptions.ts), imported, not repeated.
 */

/** Third-party files beside the checkout: an optional test group (test/helpers/mime-corpus.ts), present in CI. */
const CORPUS_DIR = corpusDir();
const RELAY = 'relay@bridge-test.example';
const OPAQUE_TYPES = [
  'multipart/signed',
  'multipart/encrypted',
  'application/pkcs7-mime',
  'application/x-pkcs7-mime',
];
/** Enough to overlap requests (and exercise the mailbox pacer), few enough to stay well inside Exchange's 4. */
const POST_CONCURRENCY = 4;
const RUN = randomBytes(3).toString('hex');

const files = !hasTool('mime-corpus')
  ? []
  : readFileSync(join(CORPUS_DIR, 'MANIFEST.tsv'), 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.length > 0)
      .map((l) => l.split('\t')[0] ?? '');

/** Tags each message with its own envelope-only recipient, so the fake's copy can be told apart. */
const tagOf = (n: number) => `e2e-corpus-${RUN}-${n}@bridge-test.example`;

interface Posted {
  envelope: string[];
  status: number;
  result: WireResult;
}

let stack: FunctionStack;
let workDir = '';
const reference: Record<string, PyMessage> = {};
const posted = new Map<string, Posted>();
/** Second reading (Python) of what Graph received: embedded .eml attachments and MIME submissions. */
let received: Record<string, PyMessage> = {};
const receivedPath = new Map<string, string>();

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'e2e-corpus-'));
  stack = await startFunctionStack('e2ecorpus', {
    settings: {
      BRIDGE_ALLOWED_SENDERS: '*@bridge-test.example',
      BRIDGE_DEFAULT_SENDER: RELAY,
      // All 141 go out as one mailbox; Exchange's 30 a minute would make this test take five minutes.
      BRIDGE_MAILBOX_PER_MINUTE: '600',
    },
  });
  Object.assign(reference, pythonReference(files.map((f) => join(CORPUS_DIR, f))));
  await mapConcurrent(files, POST_CONCURRENCY, async (file, n) => {
    const ref = reference[join(CORPUS_DIR, file)];
    const header = [...(ref?.to ?? []).slice(0, 3), ...(ref?.cc ?? []).slice(0, 2)]
      .map((m) => key(m.address))
      .filter(looksDeliverable);
    const envelope = [...new Set([...header, tagOf(n)])];
    const { status, body } = await stack.post(
      {
        messageId: `e2e-corpus-${RUN}-${String(n).padStart(4, '0')}`,
        siteId: stack.siteId,
        mailFrom: DEVICE_MAIL_FROM,
        rcptTo: envelope,
        clientAddress: '192.168.1.20',
        helo: 'scanner.site.example',
        receivedAt: new Date().toISOString(),
      },
      readFileSync(join(CORPUS_DIR, file)),
    );
    posted.set(file, { envelope, status, result: body });
  });
  // Queued ones (202: mailbox concurrency, transient) arrive through the queue trigger.
  const accepted = [...posted.values()].filter((p) => p.status === 200 || p.status === 202).length;
  await vi.waitFor(() => expect(stack.graph.messages().length).toBeGreaterThanOrEqual(accepted), 60_000);
  const second: string[] = [];
  for (const [n, file] of files.entries()) {
    for (const m of messagesFor(stack.graph, tagOf(n))) {
      const writeOut = (name: string, bytes: Buffer) => {
        const path = join(workDir, `${n}-${name}.eml`);
        writeFileSync(path, bytes);
        receivedPath.set(`${file}#${name}`, path);
        second.push(path);
      };
      if (m.mime) writeOut('mime', m.mime);
      for (const [i, a] of m.attachments.entries())
        if (a.contentType.startsWith('message/')) writeOut(`${i}`, a.content);
    }
  }
  received = pythonReference(second);
}, 180_000);

afterAll(async () => {
  await stack?.close();
  if (workDir !== '') rmSync(workDir, { recursive: true, force: true });
});

const readBack = (file: string, name: string) => received[receivedPath.get(`${file}#${name}`) ?? ''];

describeWithTool('mime-corpus', 'the MIME corpus through the function host to the fake Graph', () => {
  it('posts all 141 files of the manifest', () => {
    expect(files).toHaveLength(141);
    expect(posted.size).toBe(141);
  });

  it('delivers nothing twice and nothing that was refused', () => {
    const expected = files.filter((f) => [200, 202].includes(posted.get(f)?.status ?? 0)).length;
    expect(stack.graph.messages()).toHaveLength(expected);
  });

  it.each(files.map((f, n) => [f, n] as const))(
    '%s reaches Graph as the reference parser reads it, or is refused as documented',
    (file, n) => {
      const ref = reference[join(CORPUS_DIR, file)];
      const sent = posted.get(file);
      const exception = CORPUS_EXCEPTIONS[file];
      expect(ref?.error, 'reference parser').toBeUndefined();
      if (ref === undefined || sent === undefined) throw new Error('not processed');
      const atGraph = messagesFor(stack.graph, tagOf(n));

      if (exception?.rejected !== undefined) {
        expect(sent.status).toBe(422);
        expect(sent.result).toMatchObject({ state: 'failed', error: { code: exception.rejected } });
        expect(atGraph).toHaveLength(0);
        return;
      }
      expect([200, 202], JSON.stringify(sent.result)).toContain(sent.status);
      expect(atGraph, 'delivered exactly once').toHaveLength(1);
      const m = atGraph[0] as SandboxMessage;
      const recipients = expectedRecipients(sent.envelope, ref.to, ref.cc);
      const replyTo = expectedReplyTo(ref.replyTo, ref.from);
      expect(m.mailbox).toBe(RELAY);
      expect(m.format).toBe(OPAQUE_TYPES.includes(ref.contentType) ? 'mime' : 'json');

      if (m.format === 'mime') {
        // S/MIME goes as MIME: Python reads what Graph got; the signed/encrypted parts must be unchanged.
        const back = readBack(file, 'mime');
        expect(back?.subject).toBe(ref.subject);
        expect(back?.digest).toEqual(ref.digest);
        expect({
          to: back?.to.map((a) => key(a.address)),
          cc: back?.cc.map((a) => key(a.address)),
          bcc: back?.bcc.map((a) => key(a.address)),
        }).toEqual(recipients);
        expect(back?.replyTo.map((a) => key(a.address))).toEqual(replyTo);
        return;
      }

      expect(m.subject).toBe(exception?.subject ?? expectedSubject(ref.subject));
      expect({ to: m.to.map(key), cc: m.cc.map(key), bcc: m.bcc.map(key) }).toEqual(recipients);
      expect(m.from).toBe(RELAY);
      expect(m.replyTo.map(key)).toEqual(replyTo);
      const html = m.body.contentType === 'html';
      expect(html, 'HTML body').toBe(ref.bodyTypes.includes('text/html'));

      const got = m.attachments.map((a) => ({ name: a.name, contentType: a.contentType, sha: a.sha256 }));
      if (exception?.attachments !== undefined) {
        expect(got).toEqual(
          exception.attachments.map((a) => ({
            name: a.name,
            contentType: a.contentType,
            sha: sha256(a.content),
          })),
        );
        return;
      }
      expect(got).toHaveLength(ref.parts.length);
      for (const [i, part] of ref.parts.entries()) {
        const a = m.attachments[i];
        if (a === undefined) throw new Error(`attachment ${i} missing`);
        expect(sha256(a.content), `bytes as received, part ${i}`).toBe(a.sha256);
        if (part.kind === 'leaf') expect(a.sha256, `bytes of part ${i}`).toBe(part.sha256);
        else expect(readBack(file, `${i}`)?.digest, `embedded message ${i}`).toEqual(part.digest);
        const name = exception?.names?.[i] ?? expectedFileName(part.filename, part.contentType, i + 1);
        if (typeof name === 'string') expect(a.name, `name of part ${i}`).toBe(name);
        else expect(a.name, `name of part ${i}`).toMatch(name);
        expect(a.contentId, `Content-ID of part ${i}`).toBe(part.contentId ?? undefined);
        const referenced =
          a.contentId !== undefined &&
          html &&
          m.body.content.toLowerCase().includes(`cid:${a.contentId.toLowerCase()}`);
        expect(a.isInline, `inline flag of part ${i}`).toBe(referenced);
      }
    },
  );
});
