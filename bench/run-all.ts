import { join } from 'node:path';

import { BENCHMARKS } from './report/benchmarks';
import { runAll } from './report/run-benchmarks';

/** `npm run bench`: every benchmark in sequence, then the charts (bench/report/run-benchmarks.ts). */
const USAGE = `usage: npm run bench [-- OPTIONS]

Runs every benchmark in sequence, each by its npm script in a child process (their per-row progress is
forwarded, prefixed with the benchmark's name), then draws the SVG charts from bench/results/*.json
(npm run bench:charts redraws them alone). Each benchmark writes bench/results/<name>.md and .json; the
index is bench/results/README.md. Run it on an idle machine: msg/s and latency follow the load.

Benchmarks, in order:
${BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} npm run ${b.script.padEnd(18)} ${b.what}`).join('\n')}

Options:
  --only NAME   run only this benchmark (repeatable, or comma-separated: --only edge,stack)
  --skip NAME   run all but this benchmark (repeatable, or comma-separated)
  --quick       each benchmark's quick mode (a check of the harness, not results):
${BENCHMARKS.map((b) => `                  ${b.name.padEnd(12)} ${[...Object.entries(b.quick.env ?? {}).map(([k, v]) => `${k}=${v}`), ...(b.quick.args ?? [])].join(' ')}`).join('\n')}
  --help, -h    print this and exit

Exit code 0 when every selected benchmark ran and succeeded; 1 when any failed or its npm script is not
present (the closing line names them); 2 for a usage error.
`;

function values(args: string[], name: string): string[] {
  return args.flatMap((a, i) => (a === name && args[i + 1] ? args[i + 1]!.split(',') : [])).filter(Boolean);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values(args, '--only');
  const skip = values(args, '--skip');
  const known = new Set(BENCHMARKS.map((b) => b.name));
  const unknownNames = [...only, ...skip].filter((n) => !known.has(n));
  const unknownArgs = args.filter(
    (a, i) =>
      !['--only', '--skip', '--quick'].includes(a) && !['--only', '--skip'].includes(args[i - 1] ?? ''),
  );
  if (unknownNames.length || unknownArgs.length) {
    process.stderr.write(
      `${unknownNames.length ? `unknown benchmark(s): ${unknownNames.join(', ')} (known: ${[...known].join(', ')})\n` : ''}` +
        `${unknownArgs.length ? `unknown argument(s): ${unknownArgs.join(' ')}\n` : ''}\n${USAGE}`,
    );
    return 2;
  }
  const selected = BENCHMARKS.filter(
    (b) => (only.length === 0 || only.includes(b.name)) && !skip.includes(b.name),
  );
  const result = await runAll({
    root: join(__dirname, '..'),
    benchmarks: selected,
    quick: args.includes('--quick'),
  });
  return result.ok ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
