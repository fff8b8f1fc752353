import { parseArgs } from 'node:util';

import { runSoak, type SoakReport } from './soak';
import { CHAOS_KINDS } from './chaos';

const HELP = `Usage: npm run soak -- [options]

The custody soak: sends messages through the real edge listener, the local function host (on Azurite) and
the Graph sandbox while killing processes (SIGKILL), storming Graph with faults (429 + Retry-After, 503,
hangs, answers lost), taking the token endpoint down and filling the spool's disk; then accounts for every
message a device got a 250 for. Exit code 1 when any was lost or delivered twice (or a device got a 5xx for
a message that was delivered), 0 otherwise.

Options:
  --messages <n>        messages to get accepted (default 5000)
  --concurrency <n>     SMTP clients at once (default 8)
  --chaos-every <ms>    mean pause between chaos events (default 3000; 0 = no chaos)
  --chaos <a,b,...>     chaos kinds (default all): ${CHAOS_KINDS.map((k) => k.name).join(', ')}
  --seed <n>            seed of the chaos schedule (default: from the clock; printed)
  --settle <ms>         longest wait for every message to reach a final state (default 180000)
  --tmpfs-mb <n>        the spool on its own tmpfs of this size for the disk-full episode (needs root;
                        default 128; 0 = no tmpfs and no disk-full episode)
  --work-dir <dir>      keep logs and data here (default: a temporary directory, removed at the end)
  --json                print the report as JSON
  --help                this text
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string' },
      concurrency: { type: 'string' },
      'chaos-every': { type: 'string' },
      chaos: { type: 'string' },
      seed: { type: 'string' },
      settle: { type: 'string' },
      'tmpfs-mb': { type: 'string' },
      'work-dir': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const int = (name: string, v: string | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number ≥ 0`);
    return n;
  };
  const chaos = values.chaos?.split(',').map((s) => s.trim());
  for (const c of chaos ?? [])
    if (!CHAOS_KINDS.some((k) => k.name === c)) throw new Error(`unknown chaos kind ${c}`);
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      process.stderr.write(`[soak] ${sig}: stopping, accounting for what was sent\n`);
      stop.abort();
    });
  const report = await runSoak({
    signal: stop.signal,
    messages: int('messages', values.messages, 5000),
    concurrency: int('concurrency', values.concurrency, 8),
    chaosEveryMs: int('chaos-every', values['chaos-every'], 3000),
    ...(chaos ? { chaos } : {}),
    seed: int('seed', values.seed, Date.now() % 1_000_000),
    settleMs: int('settle', values.settle, 180_000),
    spoolTmpfsMb: int('tmpfs-mb', values['tmpfs-mb'], 128),
    ...(values['work-dir'] ? { workDir: values['work-dir'], keepWorkDir: true } : {}),
    log: (line) => process.stderr.write(`[soak] ${line}\n`),
  });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return soakFailed(report) ? 1 : 0;
}

export function soakFailed(r: SoakReport): boolean {
  return r.lost > 0 || r.duplicates > 0 || r.fiveXxDelivered > 0;
}

export function formatReport(r: SoakReport): string {
  const kv = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '—';
  return [
    `accepted (250)          ${r.accepted}`,
    `delivered once          ${r.deliveredOnce}`,
    `duplicates              ${r.duplicates}${r.duplicates ? `  (${r.duplicateIds.slice(0, 10).join(' ')})` : ''}`,
    `held with body          ${r.heldWithBody}  (${kv(r.heldReasons)})`,
    `held, but delivered     ${r.heldButDelivered}  (answer lost: the edge holds it for an admin)`,
    `pending (in custody)    ${r.pending}  (${kv(r.pendingStates)})`,
    `lost                    ${r.lost}${r.lost ? `  (${r.lostIds.slice(0, 10).join(' ')})` : ''}`,
    `not accepted            ${r.notAccepted}  (delivered anyway: ${r.deliveredWithout250})`,
    `refusals                ${kv(r.refusals)}`,
    `5xx to a device         ${r.fiveXx}  (for a delivered message: ${r.fiveXxDelivered})`,
    `chaos                   ${kv(r.chaos)}`,
    `restarts                ${kv(r.restarts)}`,
    `peak RSS (MB)           ${kv(r.peakRssMb)}`,
    `disk-full episode       ${r.diskFull}`,
    `wall time               ${(r.wallTimeMs / 1000).toFixed(1)} s   seed ${r.seed}${r.interrupted ? '   (interrupted)' : ''}`,
    '',
  ].join('\n');
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`soak: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    },
  );
