import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { ADMIN_TOKEN, startStatusStack, type StatusStack } from '../edge-listener/status-page/status-stack';
import { describeWithTool, toolPath } from '../helpers/tool-groups';

/**
 * The status page in a real browser (Debian's headless Chromium) against the real bridge: messages sent over
 * SMTP appear, hostile text stays text, a failed message is retried and a refused one deleted from the page.
 * With BRIDGE_UPDATE_SCREENSHOTS=1 it also writes the screenshots of docs/images/ (normal runs leave the
 * tree alone).
 */
const SCREENSHOTS =
  process.env.BRIDGE_UPDATE_SCREENSHOTS === '1' ? join(__dirname, '..', '..', 'docs', 'images') : undefined;
const HOSTILE = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> & "Invoice"`;

let stack: StatusStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stack = await startStatusStack('browser', {
    BRIDGE_FORWARD_BUDGET_MS: '0',
    BRIDGE_MAX_QUEUE_AGE_MS: '10s',
  });
  browser = await chromium.launch({
    executablePath: toolPath('chromium'),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // A name that is not this machine's, for the sign-in test (resolved locally; nothing leaves 127.0.0.1).
      '--host-resolver-rules=MAP bridge.example 127.0.0.1',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  page.on('dialog', (d) => void d.accept()); // the delete confirmation
  await page.goto(`${stack.baseUrl}/`);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const pdf = Buffer.from('%PDF-1.4\n% page 1 of the scan\n');
const row = (section: string, text: string) => page.locator(`#${section} tr`, { hasText: text });

describeWithTool('chromium', 'status page in a browser', () => {
  it('shows a message sent over SMTP, its attachment and a sandboxed preview of its body', async () => {
    await stack.send({
      from: 'Scanner 3F <scanner@example.com>',
      to: 'alice@example.com',
      cc: 'records@example.com',
      subject: 'Scan from MFP-3F (2 pages)',
      html: '<p>Scanned on <b>MFP-3F</b>.</p><script>parent.__pwned = 3</script><img src="https://tracker.example/p.gif">',
      attachments: [{ filename: 'scan-0042.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    await expect
      .poll(() => row('recent-list', 'Scan from MFP-3F (2 pages)').count(), { timeout: 20_000 })
      .toBe(1);
    await expect
      .poll(() => row('recent-list', 'Scan from MFP-3F (2 pages)').locator('.pill').allTextContents(), {
        timeout: 20_000,
      })
      .toEqual(['sent', 'sent']);

    await page.locator('#sandbox-list li', { hasText: 'Scan from MFP-3F (2 pages)' }).click();
    const detail = page.locator('#sandbox-detail');
    await expect
      .poll(() => detail.locator('dd').allTextContents())
      .toEqual(expect.arrayContaining(['scanner@example.com', 'alice@example.com', 'records@example.com']));
    const frame = detail.locator('iframe.preview');
    expect(await frame.getAttribute('sandbox')).toBe('');
    await expect
      .poll(() => page.frameLocator('#sandbox-detail iframe.preview').locator('body').textContent(), {
        timeout: 10_000,
      })
      .toBe('Scanned on MFP-3F.');
    expect(await page.frameLocator('#sandbox-detail iframe.preview').locator('script, img').count()).toBe(0);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      detail.locator('button.attachment', { hasText: 'scan-0042.pdf' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('scan-0042.pdf');
    const chunks: Buffer[] = [];
    for await (const chunk of (await download.createReadStream()) as AsyncIterable<Buffer>)
      chunks.push(chunk);
    expect(Buffer.concat(chunks)).toEqual(pdf);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('shows a hostile subject as text and runs none of it', async () => {
    await stack.send({ from: 'scanner@example.com', to: 'bob@example.com', subject: HOSTILE, text: 'x' });
    await expect.poll(() => row('recent-list', 'window.__pwned=2').count(), { timeout: 20_000 }).toBe(1);
    expect(await row('recent-list', 'window.__pwned=2').locator('.subject').textContent()).toBe(HOSTILE);
    await expect
      .poll(() => page.locator('#sandbox-list .subject', { hasText: '__pwned=2' }).textContent())
      .toBe(HOSTILE);
    expect(await page.locator('#content img[src="x"], #content script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('shows a message that could not be handed over as failed and retries it from the page', async () => {
    stack.functionSwitch.down();
    try {
      await stack.send({
        from: 'scanner@example.com',
        to: 'carol@example.com',
        subject: 'Sent while the function was down',
        text: 'x',
      });
      await expect
        .poll(
          () => row('waiting-list', 'Sent while the function was down').locator('.pill').allTextContents(),
          {
            timeout: 20_000,
          },
        )
        .toEqual(['deferred']);
      await expect
        .poll(() => row('failed-list', 'Sent while the function was down').count(), { timeout: 20_000 })
        .toBe(1);
      expect(
        await row('failed-list', 'Sent while the function was down').locator('.reason .code').textContent(),
      ).toBe('MESSAGE_EXPIRED');
    } finally {
      stack.functionSwitch.up = true;
    }
    await row('failed-list', 'Sent while the function was down')
      .locator('button[data-action="retry"]')
      .click();
    await expect
      .poll(() => page.locator('#toast').textContent())
      .toContain('Retrying Sent while the function was down');
    await expect
      .poll(
        () => row('recent-list', 'Sent while the function was down').locator('.pill').first().textContent(),
        { timeout: 20_000 },
      )
      .toBe('sent');
    expect(await row('failed-list', 'Sent while the function was down').count()).toBe(0);
    expect(stack.lines).toContainEqual(
      expect.objectContaining({
        event: 'ADMIN_ACTION',
        via: 'status-page',
        action: 'retry',
        outcome: 'done',
      }),
    );
  });

  it('shows why Graph refused a message, with its request id, and deletes it from the page', async () => {
    // A mailbox without an Exchange Online licence: a permanent refusal (docs/design/platform-facts.md §A4).
    stack.fn.graph.inject({
      route: 'sendMail',
      mailbox: 'unlicensed@example.com',
      status: 404,
      code: 'MailboxNotEnabledForRESTAPI',
      message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    });
    await stack.send({
      from: 'unlicensed@example.com',
      to: 'dave@example.com',
      subject: 'Refused by Graph',
      text: 'x',
    });
    const failed = row('failed-list', 'Refused by Graph');
    await expect.poll(() => failed.count(), { timeout: 20_000 }).toBe(1);
    expect(await failed.locator('.reason .code').textContent()).toBe('GRAPH_MAILBOX_NOT_FOUND');
    expect(await failed.locator('.reason .hint').textContent()).toMatch(/licence/);
    expect(await failed.locator('.reason .meta').textContent()).toMatch(
      /^Graph 404 MailboxNotEnabledForRESTAPI · request-id [0-9a-f-]{36}/,
    );
    await failed.locator('button[data-action="delete"]').click();
    await expect.poll(() => failed.count(), { timeout: 10_000 }).toBe(0);
    expect(stack.lines).toContainEqual(
      expect.objectContaining({
        event: 'ADMIN_ACTION',
        via: 'status-page',
        action: 'delete',
        outcome: 'done',
      }),
    );
  });

  it('asks for the admin token under a name that is not this machine, and works with it', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`http://bridge.example:${stack.edge.httpPort}/`);
      await expect.poll(() => other.locator('#signin').isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await other.locator('#signin-reason').textContent()).toBe(
        'under this host name: the admin token is required',
      );
      expect(await other.locator('#content').isVisible()).toBe(false);
      await other.locator('#signin-token').fill(ADMIN_TOKEN);
      await other.locator('#signin-form button').click();
      await expect
        .poll(() => other.locator('#recent-list tr', { hasText: 'Scan from MFP-3F (2 pages)' }).count(), {
          timeout: 10_000,
        })
        .toBe(1);
    } finally {
      await other.close();
    }
  });

  it('draws the activity chart from what happened', async () => {
    const svg = page.locator('#chart-counts svg');
    await expect.poll(() => svg.locator('circle.s-accepted').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const tips = await svg.locator('circle.s-accepted title').allTextContents();
    expect(tips.some((t) => /^accepted: [1-9]/.test(t))).toBe(true);
    expect(await page.locator('#tile-done').textContent()).toMatch(/^[1-9]\d*$/);
  });

  it('shows every state at once (and writes the docs screenshots when asked)', async () => {
    for (const n of [1, 2]) {
      await stack.send({
        from: 'scanner@example.com',
        to: 'finance@example.com',
        subject: `Invoice batch ${n} from MFP-2F`,
        text: 'Scanned documents attached.',
        attachments: [{ filename: `invoices-${n}.pdf`, content: pdf }],
      });
    }
    stack.fn.graph.inject({
      route: 'sendMail',
      mailbox: 'old-scanner@example.com',
      status: 404,
      code: 'MailboxNotEnabledForRESTAPI',
      message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    });
    await stack.send({
      from: 'old-scanner@example.com',
      to: 'hr@example.com',
      subject: 'Scan from a retired mailbox',
      text: 'x',
    });
    await expect
      .poll(() => row('failed-list', 'Scan from a retired mailbox').count(), { timeout: 20_000 })
      .toBe(1);
    stack.functionSwitch.down();
    try {
      await stack.send({
        from: 'scanner@example.com',
        to: 'legal@example.com',
        subject: 'Contract scan (waiting for the function)',
        text: 'x',
      });
      // allTextContents() does not wait for the row: it is waiting only until the 10 s queue age expires it, and a
      // read that waits for a row gone to the failed list would hang instead of failing.
      await expect
        .poll(() => row('waiting-list', 'Contract scan').locator('.pill').allTextContents(), {
          timeout: 20_000,
        })
        .toEqual(['deferred']);
      expect(await row('waiting-list', 'Contract scan').locator('.reason .code').allTextContents()).toEqual([
        'FUNCTION_UNREACHABLE',
      ]);
      if (SCREENSHOTS) {
        mkdirSync(SCREENSHOTS, { recursive: true });
        await page.locator('#toast').evaluate((t) => (t.hidden = true)); // a passing notice is not part of the picture
        // A viewport as tall as the page, so the preview frame is painted too (off-screen frames are not).
        await page.setViewportSize({
          width: 1360,
          height: await page.evaluate(
            () =>
              (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document
                .documentElement.scrollHeight,
          ),
        });
        await page.screenshot({ path: join(SCREENSHOTS, 'status-page.png'), fullPage: true });
        await page.setViewportSize({ width: 1360, height: 900 });
      }
    } finally {
      stack.functionSwitch.up = true;
    }
    await page.locator('#sandbox-list li', { hasText: 'Scan from MFP-3F (2 pages)' }).click();
    await expect
      .poll(() => page.frameLocator('#sandbox-detail iframe.preview').locator('body').textContent(), {
        timeout: 10_000,
      })
      .toBe('Scanned on MFP-3F.');
    if (SCREENSHOTS)
      await page.locator('#sandbox-card').screenshot({ path: join(SCREENSHOTS, 'sandbox-message.png') });
    // Four sends and three page states, each awaited with its own poll: more than the default 60 s on a
    // loaded CI machine (it once timed out there while taking 2-4 s on an idle one).
  }, 120_000);
});
