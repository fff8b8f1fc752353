import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { ensureSelfSignedCert } from '../../core/self-signed-cert';
import { startGraphSandbox } from '../../dev/graph-sandbox/sandbox';
import type { GraphSandbox, SandboxRoute } from '../../dev/graph-sandbox/options';
import { startAzurite } from '../../test/helpers/azurite';
import type { ChildJob, ChildMessage, MessageResult } from './bench-protocol';
import { timeModuleLoad, timePackagedLoad } from './module-load';
import { currentCommand, loadAverage, RESULTS_DIR, writeResults } from '../report/results-file';
import { renderReport, resultRows, type SizeResult } from './report';
import { writeScanFile, type ScanFile } from './scan-file';

/**
 * npm run bench:function — CPU time, peak memory, Graph calls and bytes per message for 50 KB, 3 MB and 30 MB
 * scans, and the function app's module load time. Writes bench/results/function.md and prints it.
 * Options: --sizes=50000,3000000 (bytes) to run fewer sizes; --cpu-runs=N and --load-runs=N (0 skips) to change
 * the repetitions of the CPU and module load measurements (defaults 5 and 7).
 *
 * This process owns the outside world (Azurite, the Graph sandbox on the test certificate, the message
 * files); every measurement happens in a fresh child running the compiled function app.
 */

const ROOT = resolve(__dirname, '..', '..');
const BUILD = join(ROOT, '.build', 'bench-function');
const RESULTS = join(RESULTS_DIR, 'function.md');
/** Everything below this line in function.md is kept across runs (hand-written history, before/after). */
const HISTORY_MARKER = '<!-- history: kept across runs -->';
const SITE = 'bench';
const SITE_SECRET = 'bench-site-secret-0123456789';
const GRAPH_ROUTES = new Set<SandboxRoute>([
  'sendMail',
  'createMessage',
  'deleteMessage',
  'addAttachment',
  'createUploadSession',
  'uploadChunk',
  'uploadStatus',
  'uploadCancel',
  'send',
  'getUser',
]);

const USAGE = `usage: npm run bench:function [-- OPTIONS]

CPU time, peak memory, Graph calls and bytes per message for 50 KB, 3 MB and 30 MB scans through the
compiled function app (Azurite + the Graph sandbox), and its module load time. Writes
bench/results/function.md and prints it.

  --sizes=BYTES,BYTES   run only these scan sizes (e.g. --sizes=50000,3000000)
  --cpu-runs=N          repetitions of the CPU measurement (default 5; 0 skips it)
  --load-runs=N         repetitions of the module load measurement (default 7; 0 skips it)
  --help, -h            print this and exit
`;

function option(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function build(): void {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const out = spawnSync(
    process.execPath,
    [tsc, '-p', join(ROOT, 'bench', 'function', 'tsconfig.build.json')],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  // tsc emits despite type errors elsewhere in the tree; only a missing output is fatal.
  if (!existsSync(join(BUILD, 'bench', 'function', 'measure-child.js')))
    throw new Error(`build failed:\n${out.stdout}`);
  if (out.status !== 0)
    console.warn(`tsc reported errors (output still emitted):\n${out.stdout.slice(0, 2000)}`);
}

function runChild(job: ChildJob, certPath: string, graph: GraphSandbox): Promise<MessageResult[]> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', join(BUILD, 'bench', 'function', 'measure-child.js')],
    {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Node reads NODE_EXTRA_CA_CERTS once, at start: the child must trust the sandbox's certificate from birth.
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certPath },
    },
  );
  return new Promise((resolvePromise, reject) => {
    child.on('message', (raw) => {
      const m = raw as ChildMessage;
      if (m.kind === 'warm') {
        graph.clear(); // the fake's log now holds only the measured messages
        child.send({ kind: 'go' });
      } else if (m.kind === 'done') resolvePromise(m.messages);
      else reject(new Error(`measuring child failed: ${m.error}`));
    });
    child.on('exit', (code) => reject(new Error(`measuring child exited with ${code}`)));
    child.send({ kind: 'job', job });
  });
}

function storageNames(tag: string): Record<string, string> {
  const t = `${tag}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  return { BRIDGE_STATE_TABLE: `t${t}`, BRIDGE_BLOB_CONTAINER: `c-${t}`, BRIDGE_QUEUE_NAME: `q-${t}` };
}

function fakeAccounting(graph: GraphSandbox, messages: number): SizeResult['fake'] {
  const requests = graph.requests().filter((r) => GRAPH_ROUTES.has(r.route));
  const routes: Record<string, number> = {};
  for (const r of requests) routes[r.route] = (routes[r.route] ?? 0) + 1 / messages;
  return {
    calls: requests.length / messages,
    bytes: requests.reduce((n, r) => n + r.bytes, 0) / messages,
    routes,
  };
}

function byteExact(graph: GraphSandbox, file: ScanFile, expected: number): boolean {
  const kept = graph.messages();
  return (
    kept.length === expected &&
    kept.every((m) => m.attachments.length === 1 && m.attachments[0]?.sha256 === file.pdfSha256)
  );
}

async function main(): Promise<void> {
  const sizes = (option('sizes') ?? '50000,3000000,30000000').split(',').map(Number);
  const cpuRuns = Number(option('cpu-runs') ?? 5);
  console.log('building the function app and the bench (tsc)…');
  build();
  const tls = await ensureSelfSignedCert(join(ROOT, '.test-data', 'tls'), {
    commonName: 'smtp-graph-bridge test',
  });
  const azurite = await startAzurite();
  const graph = await startGraphSandbox({ cert: tls.cert, key: tls.key, maxKeptBytes: 2 * 1024 ** 3 });
  const dir = await mkdtemp(join(tmpdir(), 'sgb-bench-'));
  const results: SizeResult[] = [];
  let rssSource = 'sampled';
  try {
    const baseSettings: Record<string, string> = {
      AzureWebJobsStorage: azurite.connectionString,
      AZURE_TENANT_ID: 'tenant-bench',
      AZURE_CLIENT_ID: 'bench-client-id',
      AZURE_CLIENT_SECRET: 'bench-client-secret',
      AZURE_AUTHORITY_HOST: graph.authorityHost,
      BRIDGE_GRAPH_ENDPOINT: graph.url,
      BRIDGE_ALLOWED_SENDERS: 'scanner@contoso.com',
      BRIDGE_SITE_SECRETS: JSON.stringify({ [SITE]: SITE_SECRET }),
    };
    const warmupPath = (await writeScanFile(dir, 20_000, 'warm.eml')).path;
    for (const size of sizes) {
      const file = await writeScanFile(dir, size);
      const label = size >= 1e6 ? `${size / 1e6} MB` : `${size / 1e3} KB`;
      const load = loadAverage();
      const job = (
        mode: ChildJob['mode'],
        stage: ChildJob['stage'],
        settings: Record<string, string>,
        repetitions: number,
      ): ChildJob => ({
        mode,
        stage,
        settings,
        siteId: SITE,
        siteSecret: SITE_SECRET,
        messagePath: file.path,
        warmupPath,
        repetitions,
      });
      console.log(`${label}: memory run…`);
      const memorySettings = { ...baseSettings, ...storageNames('mem') };
      const [memoryRun] = await runChild(job('memory', 'intake', memorySettings, 1), tls.certPath, graph);
      if (!memoryRun) throw new Error('memory run returned nothing');
      if (memoryRun.invocations[0]?.status === 202) {
        // The queue trigger in a fresh process of its own, as a separate invocation would run in Azure.
        const [queued] = await runChild(job('memory', 'trigger', memorySettings, 1), tls.certPath, graph);
        if (!queued) throw new Error('trigger run returned nothing');
        memoryRun.invocations.push(...queued.invocations);
        memoryRun.reports.push(...queued.reports);
        memoryRun.state = queued.state;
      }
      // A queued message's intake makes no Graph call, so the fake's log (cleared after each warm-up) holds
      // exactly this message's requests.
      const fake = fakeAccounting(graph, 1);
      let exact = byteExact(graph, file, 1);
      rssSource = memoryRun.invocations[0]?.memory?.rssSource ?? rssSource;
      console.log(`${label}: CPU runs ×${cpuRuns}…`);
      const cpu =
        cpuRuns > 0
          ? await runChild(
              job('cpu', 'both', { ...baseSettings, ...storageNames('cpu') }, cpuRuns),
              tls.certPath,
              graph,
            )
          : [];
      if (cpuRuns > 0) exact &&= byteExact(graph, file, cpuRuns);
      for (const r of [memoryRun, ...cpu]) {
        if (r.state !== 'sent')
          throw new Error(`${label}: message ${r.messageId} ended ${r.state ?? 'unrecorded'}, not sent`);
      }
      results.push({
        label,
        mimeBytes: file.mimeBytes,
        pdfBytes: file.pdfBytes,
        memoryRun,
        cpuRuns: cpu,
        fake,
        byteExact: exact,
        load,
      });
    }
  } finally {
    await graph.close();
    await azurite.stop();
    await rm(dir, { recursive: true, force: true });
  }

  const loadRuns = Number(option('load-runs') ?? 7);
  console.log(`module load time ×${loadRuns}…`);
  const moduleLoadStart = loadAverage();
  const loads =
    loadRuns > 0
      ? [
          // The deployed shape first (the target), then the references.
          timePackagedLoad(ROOT, loadRuns).timing,
          timeModuleLoad(
            'compiled (tsc) functions/index.js',
            join(BUILD, 'functions', 'index.js'),
            [],
            loadRuns,
            ROOT,
          ),
          timeModuleLoad(
            'tsx functions/index.ts',
            join(ROOT, 'functions', 'index.ts'),
            ['--import', 'tsx'],
            loadRuns,
            ROOT,
          ),
        ]
      : [];

  const command = currentCommand('tsx bench/function/run.ts');
  const report = renderReport({
    command,
    date: new Date(),
    sizes: results,
    loads,
    moduleLoadStart,
    rssSource,
  });
  const previous = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
  const history = previous.includes(HISTORY_MARKER)
    ? previous.slice(previous.indexOf(HISTORY_MARKER))
    : HISTORY_MARKER + '\n';
  writeResults('function', {
    md: `${report}\n${history}`,
    json: { command, rows: resultRows({ sizes: results, loads, moduleLoadStart }) },
  });
  console.log(`\n${report}`);
  console.log(`written to ${RESULTS}`);
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
