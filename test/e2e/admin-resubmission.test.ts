import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { signedGet } from '../../edge-listener/doctor/function-requests';
import { WIRE_PATH } from '../../core/wire';
import { runCli, CLI_ENTRY } from '../edge-listener/cli/edge-process';
import { smtpTransport, startE2eEdge, type E2eEdge } from '../helpers/e2e-edge';
import { idFromReply } from '../edge-listener/helpers/edge-harness';
import { startFunctionStack, type FunctionStack } from '../helpers/e2e-function-stack';
import { TcpRelay } from '../helpers/tcp-relay';

/**
 * An admin fixes what the function refused and retries: the real edge (reply budget 0, so the device has its
 * 250 before the function answers), the real local function host on Azurite, the Graph sandbox. The function
 * records SENDER_NOT_ALLOWED for the spool id and would replay it forever; the admin's retry through the CLI
 * resubmits the message as `<spoolId>.r1`, which the restarted function (permissive policy, same storage)
 * sends — once.
 */
const RUN = randomBytes(3).toString('hex');
const LATE_SENDER = 'late-scanner@contoso.com';

let first: FunctionStack | undefined;
let second: FunctionStack | undefined;
let relay: TcpRelay;
let edge: E2eEdge;

beforeAll(async () => {
  first = await startFunctionStack('resubmit'); // allows only scanner@contoso.com
  relay = await TcpRelay.start(first.url);
  edge = await startE2eEdge({ ...first, url: relay.url }, { BRIDGE_FORWARD_BUDGET_MS: '0' });
}, 60_000);

afterAll(async () => {
  await edge?.close();
  await relay?.close();
  await first?.close();
  await second?.close();
});

describe('admin resubmission of a message the function failed for good', () => {
  it('delivers it exactly once under a new submission id after the admin fixed the policy and retried via the CLI', async () => {
    const subject = `Resubmitted ${RUN}`;
    const info = await smtpTransport(edge.smtpPort).sendMail({
      from: LATE_SENDER,
      to: 'alice@fabrikam.com',
      subject,
      text: 'x',
    });
    expect(info.response).toMatch(/^250 /); // budget 0: the 250 comes before the function's answer
    const id = idFromReply(info.response);
    const failed = await vi.waitFor(async () => {
      const e = await edge.listener.spool.get(id);
      expect(e?.state).toBe('failed');
      return e;
    }, 20_000);
    expect(failed).toMatchObject({
      state: 'failed',
      submissionId: id,
      lastError: { code: 'SENDER_NOT_ALLOWED' },
    });

    // The admin allows the sender: new app settings restart the function app (same storage, new Graph sandbox).
    const cfg = first!.config;
    await first!.close();
    first = undefined;
    second = await startFunctionStack('resubmit', {
      settings: {
        BRIDGE_ALLOWED_SENDERS: '*@contoso.com',
        BRIDGE_STATE_TABLE: cfg.stateTable,
        BRIDGE_BLOB_CONTAINER: cfg.blobContainer,
        BRIDGE_QUEUE_NAME: cfg.queueName,
      },
    });
    relay.retarget(second.url);
    // The function still answers the spool id with its recorded refusal: a plain retry could never send.
    const replay = await signedGet(edge.config, `${WIRE_PATH}/${id}`, { messageId: id, timeoutMs: 5000 });
    expect(replay.json).toMatchObject({ id, state: 'failed', error: { code: 'SENDER_NOT_ALLOWED' } });

    const cli = await runCli(
      ['queue', 'retry', id],
      { ...process.env, BRIDGE_DATA_DIR: edge.dataDir } as Record<string, string>,
      ['--import', 'tsx', CLI_ENTRY],
    );
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`${id}  (resubmitted as ${id}.r1)`);

    const done = await vi.waitFor(async () => {
      const e = await edge.listener.spool.get(id);
      expect(e?.state).toBe('done');
      return e;
    }, 20_000);
    expect(done).toMatchObject({
      state: 'done',
      outcome: 'sent',
      submissionId: `${id}.r1`,
      result: { id: `${id}.r1`, state: 'sent' },
    });
    const kept = await vi.waitFor(() => {
      const l = second!.graph.messages().filter((m) => m.subject === subject);
      expect(l).not.toHaveLength(0);
      return l;
    }, 20_000);
    expect(kept).toHaveLength(1);
    expect(
      second!.graph.requests().filter((r) => r.route === 'sendMail' && r.mailbox === LATE_SENDER),
    ).toHaveLength(1);
    // the function's records: the old id still failed, the resubmission sent (what the status page reads back)
    const now = await signedGet(edge.config, `${WIRE_PATH}/${id}.r1`, {
      messageId: `${id}.r1`,
      timeoutMs: 5000,
    });
    expect(now.json).toMatchObject({ id: `${id}.r1`, state: 'sent' });
    expect(edge.lines.filter((l) => l.event === 'ADMIN_ACTION' && l.mid === id)).toEqual([
      expect.objectContaining({
        via: 'admin-api',
        action: 'retry',
        outcome: 'done',
        resubmitted: [`${id}.r1`],
      }),
    ]);
    // a later automatic pass never moves the id again: still one send after the forwarder's retry schedule
    await new Promise((r) => setTimeout(r, 1500));
    expect(second!.graph.messages().filter((m) => m.subject === subject)).toHaveLength(1);
    expect((await edge.listener.spool.get(id))?.submissionId).toBe(`${id}.r1`);
  });
});
