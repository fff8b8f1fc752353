import { readFileSync } from 'node:fs';
const [p, target] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(p!, 'utf8'));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map(prof.nodes.map((n: any) => [n.id, n]));
const self = new Map<number, number>();
prof.samples.forEach((id: number, i: number) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const agg = new Map<string, number>();
for (const [id, us] of self) {
  const n: any = byId.get(id);
  if (n.callFrame.functionName !== target) continue;
  const chain: string[] = [];
  let cur = parent.get(id);
  for (let k = 0; k < 14 && cur !== undefined; k++) {
    const c: any = (byId.get(cur) as any).callFrame;
    chain.push(`${c.functionName || '(anon)'}:${c.lineNumber}`);
    cur = parent.get(cur);
  }
  const key = chain.join(' < ');
  agg.set(key, (agg.get(key) ?? 0) + us);
}
for (const [k, us] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log((us / 1000).toFixed(0).padStart(6), k);
