import { readFileSync } from 'node:fs';
const [p] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(p!, 'utf8'));
const byId = new Map(prof.nodes.map((n: any) => [n.id, n]));
const self = new Map<string, number>();
prof.samples.forEach((id: number, i: number) => { const c: any = (byId.get(id) as any).callFrame; const k = `${c.functionName}:${c.lineNumber}:${c.url.split('/').pop()}`; self.set(k, (self.get(k) ?? 0) + (prof.timeDeltas[i] ?? 0)); });
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((us / 1000).toFixed(0).padStart(6), k);
