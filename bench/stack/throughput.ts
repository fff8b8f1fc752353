import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';

import { cpuSeconds } from '../edge/processes';
import { discardTarget, LAN_DISCARD_NAME, type Target } from '../edge/targets';
import {
  currentCommand,
  formatLoad,
  type LoadAverage,
  loadAverage,
  loadedMachineNote,
  machineLine,
  writeResults,
} from '../report/results-file';
import { planLanes, runLanes, runOneSender, type LanesRun } from './smtp-lanes';
import { internetMessageIdOf, startStackUnderTest, type StackUnderTest } from './stack-under-test';

const HELP = `Usage: npm run bench:stack -- [options]

The whole stack as \`npm start\` runs it (edge listener with its defaults, local function host on Azurite, Graph
sandbox with Exchange's per-mailbox limits) against a bare smtp-server that discards (LanSmtpServer), in the
same run: Postfix smtp-source, 20 parallel sessions, 10 KB, a new connection per message. Reports msg/s of
both, the ratio (target ≥ 0.5×), CPU ms per message, and — after a settle — how many accepted messages
reached the Graph sandbox, each exactly once, and the throttling answers (429) the sandbox gave.
Writes bench/results/stack.md and stack.json (not with --only).

Rows:
  many senders   20 lanes (one session each); a new sender mailbox every --per-sender messages, so the
                 run settles within Exchange's 30 a minute per mailbox (checked: delivered exactly once)
  one sender     one smtp-source -s 20, every message from one mailbox (the issue's measurement): the
                 function paces that mailbox, delivery goes on at 30 a minute long after the row

Options:
  --messages <n>     messages through the stack per row (default 1000; quick 200)
  --bare-messages <n> messages through the bare server per row (default max(messages, 2000); quick 400)
  --per-sender <n>   messages per sender mailbox in the many-senders row (default 25, ≤ 30 with the warm-up)
  --settle <s>       longest wait for the many-senders row to reach the sandbox (default 120)
  --only <row>       "many" or "one": run one row; prints, writes no result file
  --quick            a fifth of the messages (also BENCH_QUICK=1): checks the harness
  --help             this text

Needs /usr/sbin/smtp-source (Debian package postfix). About 1-2 minutes on an idle machine.`;

const SESSIONS = 20;
const SIZE = 10 * 1024;
const MANY = '10 KB, 20 sessions, many senders';
const ONE = '10 KB, 20 sessions, one sender';

/** A throughput row in the shape the report's charts read (bench/report/result-shapes.ts on the bench-report branch). */
interface Row {
  /** "10 KB, 20 sessions, many senders" — the two servers of one scenario are compared. */
  scenario: string;
  senders: string;
  target: string;
  /** subject: the whole stack; reference: the bare smtp-server the ratio is measured against. */
  role: 'subject' | 'reference';
  server: 'stack' | 'bare';
  messages: number;
  seconds: number;
  perSecond: number;
  cpuMsPerMessage: number;
  /** The stack's CPU ms per message by process (edge, function host, Azurite). */
  cpuMsPerMessageBy?: Record<string, number>;
  /** 250s counted by the edge (/metrics); the bare server counts none. */
  accepted?: number;
  errors: string[];
  load: LoadAverage;
}

interface Delivery {
  row: string;
  accepted: number;
  /** Distinct submissions (internetMessageId) that reached the sandbox. */
  delivered: number;
  duplicates: number;
  missing: number;
  settleSeconds: number;
  settled: boolean;
  throttled429: number;
  refusals: Record<string, number>;
}

const log = (line: string) => process.stderr.write(`[bench:stack] ${line}\n`);

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const ROLES = ['edge', 'function', 'azurite'] as const;

/** CPU seconds of each of the stack's own processes; the in-process sandbox is Microsoft's side. */
function stackCpuBy(s: StackUnderTest): Record<string, number> {
  return Object.fromEntries(
    ROLES.map((role) => {
      const pid = s.cluster.pid(role);
      return [role, pid ? cpuSeconds(pid) : 0];
    }),
  );
}

const STACK_NAME = 'whole stack (npm start: edge + function host + Azurite + Graph sandbox)';

async function measure(
  label: { scenario: string; senders: string },
  server: Row['server'],
  cpu: () => Record<string, number>,
  accepted: (() => Promise<number>) | undefined,
  run: () => Promise<LanesRun>,
): Promise<Row> {
  const load = loadAverage();
  log(`${label.scenario}: ${server} … (load ${formatLoad(load)})`);
  const before = accepted ? await accepted() : undefined;
  const cpu0 = cpu();
  const r = await run();
  const cpu1 = cpu();
  const row: Row = {
    ...label,
    target: server === 'stack' ? STACK_NAME : LAN_DISCARD_NAME,
    role: server === 'stack' ? 'subject' : 'reference',
    server,
    messages: r.messages,
    seconds: round(r.seconds, 3),
    perSecond: round(r.messages / r.seconds, 1),
    cpuMsPerMessage: round(
      (Object.keys(cpu1).reduce((sum, k) => sum + (cpu1[k] ?? 0) - (cpu0[k] ?? 0), 0) * 1000) / r.messages,
      2,
    ),
    errors: r.errors.slice(0, 5),
    load,
  };
  if (accepted && before !== undefined) row.accepted = (await accepted()) - before;
  if (server === 'stack')
    row.cpuMsPerMessageBy = Object.fromEntries(
      Object.keys(cpu1).map((k) => [k, round((((cpu1[k] ?? 0) - (cpu0[k] ?? 0)) * 1000) / r.messages, 2)]),
    );
  log(
    `${label.scenario}: ${server} ${row.perSecond} msg/s, ${row.cpuMsPerMessage} CPU ms/msg` +
      `${row.accepted !== undefined ? `, ${row.accepted} accepted` : ''}${row.errors.length ? `, errors: ${row.errors[0]}` : ''}`,
  );
  return row;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Deliveries of one row's senders: distinct submissions and the ones kept more than once. */
function deliveriesOf(s: StackUnderTest, senderPrefix: string): { delivered: number; duplicates: number } {
  let delivered = 0;
  let duplicates = 0;
  for (const [key, count] of s.cluster.delivered) {
    if (!key.startsWith(senderPrefix)) continue;
    delivered += 1;
    if (count > 1) duplicates += 1;
  }
  return { delivered, duplicates };
}

async function settle(
  s: StackUnderTest,
  row: string,
  senderPrefix: string,
  accepted: number,
  maxSeconds: number,
  throttled0: number,
): Promise<Delivery> {
  const started = Date.now();
  let last = -1;
  for (;;) {
    s.cluster.countDeliveries();
    const d = deliveriesOf(s, senderPrefix);
    const seconds = (Date.now() - started) / 1000;
    if (d.delivered !== last && (d.delivered >= accepted || Math.floor(seconds) % 10 === 0)) {
      log(`${row}: settle ${d.delivered}/${accepted} at the sandbox after ${seconds.toFixed(0)} s`);
      last = d.delivered;
    }
    if (d.delivered >= accepted || seconds >= maxSeconds) {
      // a duplicate can trail its first copy: look once more after a short while
      if (d.delivered >= accepted) await new Promise((r) => setTimeout(r, 2000));
      s.cluster.countDeliveries();
      const final = deliveriesOf(s, senderPrefix);
      return {
        row,
        accepted,
        delivered: final.delivered,
        duplicates: final.duplicates,
        missing: Math.max(0, accepted - final.delivered),
        settleSeconds: round(seconds, 1),
        settled: final.delivered >= accepted,
        throttled429: (s.refusals.get(429) ?? 0) - throttled0,
        refusals: Object.fromEntries([...s.refusals].map(([k, v]) => [String(k), v])),
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string' },
      'bare-messages': { type: 'string' },
      'per-sender': { type: 'string' },
      settle: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const quick = values.quick === true || process.env.BENCH_QUICK === '1';
  const int = (v: string | undefined, dflt: number, name: string) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
    return n;
  };
  const messages = int(values.messages, quick ? 200 : 1000, 'messages');
  const bareMessages = int(values['bare-messages'], quick ? 400 : Math.max(messages, 2000), 'bare-messages');
  const perSender = int(values['per-sender'], 25, 'per-sender');
  const settleSeconds = int(values.settle, 120, 'settle');
  const only = values.only;
  if (only !== undefined && only !== 'many' && only !== 'one') throw new Error('--only: "many" or "one"');
  const command = currentCommand('tsx bench/stack/throughput.ts');

  log(`starting the bare smtp-server (${LAN_DISCARD_NAME})`);
  const bare: Target = await discardTarget('lan');
  let stack: StackUnderTest | undefined;
  const rows: Row[] = [];
  const deliveries: Delivery[] = [];
  try {
    log('starting the stack: Azurite, Graph sandbox, function host, edge listener');
    const t0 = Date.now();
    stack = await startStackUnderTest({
      keptMessages: 5000,
      deliveryKey: (m) => `${m.mailbox.toLowerCase()} ${internetMessageIdOf(m) ?? m.id}`,
    });
    const s = stack;
    log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (SMTP port ${s.smtpPort})`);

    // Warm-up: JIT, connection pools, the function's token and tables. The stack's warm-up messages come
    // from senders of their own (5 each) so the measured senders start with a full budget.
    log('warm-up: bare server, then stack');
    await runLanes(bare.port, planLanes(quick ? 200 : 2000, SESSIONS, 100_000, 'warm-bare'), SIZE);
    await runLanes(s.smtpPort, planLanes(quick ? 40 : 100, SESSIONS, 5, 'warm'), SIZE);

    const bareCpu = () => ({ bare: cpuSeconds(bare.pid) });
    if (only !== 'one') {
      const label = { scenario: MANY, senders: `${SESSIONS} lanes, a new sender every ${perSender}` };
      rows.push(
        await measure(label, 'bare', bareCpu, undefined, () =>
          runLanes(bare.port, planLanes(bareMessages, SESSIONS, perSender, 'bare-many'), SIZE),
        ),
      );
      const throttled0 = s.refusals.get(429) ?? 0;
      const row = await measure(
        label,
        'stack',
        () => stackCpuBy(s),
        () => s.accepted(),
        () => runLanes(s.smtpPort, planLanes(messages, SESSIONS, perSender, 'many'), SIZE),
      );
      rows.push(row);
      deliveries.push(await settle(s, MANY, 'many-', row.accepted ?? 0, settleSeconds, throttled0));
    }
    if (only !== 'many') {
      const label = { scenario: ONE, senders: '1 mailbox (smtp-source -s 20)' };
      rows.push(
        await measure(label, 'bare', bareCpu, undefined, () =>
          runOneSender(bare.port, SESSIONS, bareMessages, SIZE, 'one-sender@example.com'),
        ),
      );
      const throttled0 = s.refusals.get(429) ?? 0;
      const row = await measure(
        label,
        'stack',
        () => stackCpuBy(s),
        () => s.accepted(),
        () => runOneSender(s.smtpPort, SESSIONS, messages, SIZE, 'one-sender@example.com'),
      );
      rows.push(row);
      // Exchange's pace for one mailbox: 30 a minute. Only a short look, no full settle.
      deliveries.push(await settle(s, ONE, 'one-sender@', row.accepted ?? 0, 10, throttled0));
    }
  } finally {
    log('stopping');
    await stack?.close();
    await bare.stop();
  }

  const md = report(command, rows, deliveries, messages, perSender);
  if (only === undefined) {
    const written = writeResults('stack', {
      md,
      json: {
        command,
        rows,
        commit: gitCommit(),
        sessions: SESSIONS,
        messageBytes: SIZE,
        deliveries,
        ratios: ratios(rows),
      },
    });
    log(`wrote ${written.mdPath} and ${written.jsonPath}`);
  }
  process.stdout.write(md);
  const bad = deliveries.some((d) => d.duplicates > 0 || (d.row === MANY && !d.settled));
  return bad ? 1 : 0;
}

function ratios(rows: Row[]): Array<{ scenario: string; ratio: number }> {
  const out: Array<{ scenario: string; ratio: number }> = [];
  for (const r of rows.filter((x) => x.server === 'stack')) {
    const b = rows.find((x) => x.server === 'bare' && x.scenario === r.scenario);
    if (b) out.push({ scenario: r.scenario, ratio: round(r.perSecond / b.perSecond, 3) });
  }
  return out;
}

function report(
  command: string,
  rows: Row[],
  deliveries: Delivery[],
  messages: number,
  perSender: number,
): string {
  const ratioOf = (scenario: string) => ratios(rows).find((r) => r.scenario === scenario)?.ratio;
  const lines = [
    '# Whole stack vs a bare smtp-server (issue 13)',
    '',
    `Command: \`${command}\` (bench/stack/throughput.ts), commit ${gitCommit()}, ${new Date().toISOString()}.`,
    machineLine(),
    ...loadedMachineNote(rows.map((r) => r.load)),
    '',
    `Postfix \`smtp-source\`, ${SESSIONS} parallel sessions, ${SIZE / 1024} KB, a new connection per message, on loopback.`,
    '**stack**: what `npm start` runs — the edge listener with its default settings (reply hold included, whatever',
    'this commit defaults to), the local function host on Azurite with the function defaults (pacing 4 concurrent,',
    "30 a minute per mailbox), the Graph sandbox with Exchange's limit of 4 concurrent requests per mailbox (in the",
    'benchmark process). **bare**: smtp-server that reads and discards (`LanSmtpServer`, bench/edge/discard-server.ts),',
    'measured in the same run. CPU ms/msg: user+system CPU of the server processes per message (stack: edge +',
    'function host + Azurite; not the sandbox, not smtp-source) — the number to compare on a busy machine.',
    `"many senders": ${SESSIONS} lanes of one session each, a new sender mailbox every ${perSender} messages (so`,
    'delivery is not bound by 30 a minute per mailbox and the run settles); "one sender": every message from one',
    "mailbox, the issue's measurement — the function paces that mailbox, so delivery trails at 30 a minute.",
    '',
    '| scenario | server | messages | msg/s | ratio stack/bare | CPU ms/msg | accepted (250) | load at start | errors |',
    '|---|---|---:|---:|---:|---:|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.server} | ${r.messages} | ${r.perSecond.toFixed(0)} | ${r.server === 'stack' ? `**${ratioOf(r.scenario)?.toFixed(2) ?? '—'}×**` : ''} | ${r.cpuMsPerMessage.toFixed(2)}${r.cpuMsPerMessageBy ? ` (${ROLES.map((k) => `${k} ${r.cpuMsPerMessageBy?.[k]?.toFixed(1) ?? '?'}`).join(', ')})` : ''} | ${r.accepted ?? '—'} | ${formatLoad(r.load)} | ${r.errors.length ? r.errors[0] : ''} |`,
    ),
    '',
    'Target: stack ≥ 0.5× bare (issue 13).',
    '',
    '## Delivery to the Graph sandbox',
    '',
    "Counted by submission (the internetMessageId the function gives each accepted message: the edge's spool id",
    '+ site) per sender mailbox, from the messages the sandbox kept. 429: throttling answers the sandbox gave',
    "during the row and its settle (the function's pacer should leave none).",
    '',
    '| scenario | accepted | reached the sandbox | exactly once | duplicates | missing | settle | 429 answers |',
    '|---|---:|---:|---|---:|---:|---:|---:|',
    ...deliveries.map(
      (d) =>
        `| ${d.row} | ${d.accepted} | ${d.delivered} | ${d.settled && d.duplicates === 0 ? 'yes' : d.duplicates ? 'NO' : 'not settled'} | ${d.duplicates} | ${d.missing} | ${d.settleSeconds} s${d.settled ? '' : ' (stopped looking)'} | ${d.throttled429} |`,
    ),
    '',
    deliveries.some((d) => d.row === ONE)
      ? `"one sender" is looked at for 10 s only: its ${messages} messages leave at 30 a minute; the rest are in the function's queue (custody), not lost.`
      : '',
    '',
  ];
  return lines.join('\n');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench:stack: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
