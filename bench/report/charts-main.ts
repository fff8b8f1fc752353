import { resolve } from 'node:path';

import { CHARTS, makeCharts } from './make-charts';
import { RESULTS_DIR } from './results-file';

/** `npm run bench:charts`: the SVG charts of bench/results/ from the JSON result files already there. */
const USAGE = `usage: npm run bench:charts [-- --dir DIR] [-- --strict]

Regenerates the SVG charts in bench/results/ from the JSON result files there, without running a benchmark:
${CHARTS.map((c) => `  ${c.svg.padEnd(22)} from ${c.from.map((f) => `${f}.json`).join(' or ')}`).join('\n')}
A chart whose result file is missing or lacks its data is reported and left as it was.

  --dir DIR   read and write DIR instead of bench/results
  --strict    exit 1 when any chart could not be drawn
  --help, -h  print this and exit
`;

function main(): number {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const dirIndex = args.indexOf('--dir');
  const dir = dirIndex >= 0 && args[dirIndex + 1] ? resolve(args[dirIndex + 1]!) : RESULTS_DIR;
  const known = new Set(['--strict', '--dir', ...(dirIndex >= 0 ? [args[dirIndex + 1]] : [])]);
  const unknown = args.filter((a) => !known.has(a));
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument(s): ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const outcome = makeCharts(dir);
  for (const w of outcome.written) console.log(`chart ${w.svg}: drawn from ${w.from}`);
  for (const m of outcome.missing) console.log(`chart ${m.svg}: NOT drawn (${m.reasons.join('; ')})`);
  console.log(
    `charts: ${outcome.written.length} drawn, ${outcome.missing.length} not drawn${outcome.missing.length ? `: ${outcome.missing.map((m) => m.svg).join(', ')}` : ''}`,
  );
  return args.includes('--strict') && outcome.missing.length > 0 ? 1 : 0;
}

process.exitCode = main();
