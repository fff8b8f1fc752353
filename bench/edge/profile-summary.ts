import { readFileSync } from 'node:fs';

/**
 * Where the listener's CPU goes: self time of a `node --cpu-prof` profile of the single-file build, summed per
 * source file of the bundle (esbuild keeps `// edge-listener/…` and `// node_modules/…` section comments) and
 * per native function (fs and socket calls, GC).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/edge-listener.cjs start     (run load against it, then stop it)
 *   npx tsx bench/edge/profile-summary.ts /tmp/prof/*.cpuprofile dist/edge-listener.cjs [top]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [profilePath, bundlePath, topArg] = process.argv.slice(2);
if (!profilePath || !bundlePath) {
  console.error('usage: profile-summary.ts PROFILE.cpuprofile BUNDLE.cjs [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as Profile;
const sections: Array<[number, string]> = [];
readFileSync(bundlePath, 'utf8')
  .split('\n')
  .forEach((line, i) => {
    const m = /^\/\/ ((?:node_modules|edge-listener|core)\/\S+)$/.exec(line);
    if (m) sections.push([i, m[1]!]);
  });
const sectionOf = (line: number): string => {
  let lo = 0;
  let hi = sections.length - 1;
  let found = '(bundle prelude)';
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sections[mid]![0] <= line) {
      found = sections[mid]![1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
};

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totals = new Map<string, number>();
let busyUs = 0;
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  if (functionName === '(idle)') continue;
  busyUs += us;
  const key = url.endsWith('.cjs')
    ? `js     ${sectionOf(lineNumber)}`
    : url
      ? `node   ${url.replace(/^node:/, '')}`
      : `native ${functionName}`;
  totals.set(key, (totals.get(key) ?? 0) + us);
}
console.log(`busy ${(busyUs / 1000).toFixed(0)} ms (idle excluded)`);
for (const [key, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 30))) {
  console.log(
    `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${key}`,
  );
}
