import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Peak memory of this process while a handler runs, three ways, because each one misses something:
 * - Linux's own high-water mark (VmHWM in /proc/self/status, reset by writing 5 to /proc/self/clear_refs):
 *   the exact peak RSS, including what happens inside one synchronous call;
 * - a worker thread reading RSS every millisecond: not blocked by synchronous work on the main thread, the
 *   cross-check where /proc is not available;
 * - a 1 ms timer on the main thread for heapUsed / external / arrayBuffers (these belong to the main
 *   isolate and can only be read there; a long synchronous call can hide a short peak from it).
 * The worker is started before the baseline is taken, so its own few MB are in the baseline.
 */
export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface MemoryPeak {
  /** Figures at rest before the run (after two full GCs). */
  baseline: MemoryFigures;
  /** Highest value seen for each figure during the run. */
  peak: MemoryFigures;
  /**
   * Highest sampled RSS and arrayBuffers in each phase the run marked (see `phase`), in the order first
   * entered: where the memory goes. Sampled values, so a phase's RSS may be below the exact overall peak.
   */
  phases: Array<{ name: string; rss: number; arrayBuffers: number }>;
  /** How the RSS peak was measured. */
  rssSource: 'VmHWM' | 'sampled';
  samples: number;
}

/** Slots in the shared buffer: [0] peak RSS, [1] sample count, [2] current phase, [3 + i] peak RSS of phase i. */
const MAX_PHASES = 16;
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const slots = new Float64Array(workerData);
const timer = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > slots[0]) slots[0] = rss;
  slots[1] += 1;
  const phase = 3 + slots[2];
  if (rss > slots[phase]) slots[phase] = rss;
}, 1);
parentPort.on('message', () => { clearInterval(timer); parentPort.close(); });
`;

function highWaterMark(): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

function resetHighWaterMark(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function figures(): MemoryFigures {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

export class MemorySampler {
  readonly #shared = new SharedArrayBuffer(8 * (3 + MAX_PHASES));
  readonly #slots = new Float64Array(this.#shared);
  #worker: Worker | undefined;
  #phaseNames: string[] = [];
  #phaseArrayBuffers: number[] = [];
  #current = 0;

  /** Marks the start of a named phase of the running measurement (e.g. 'plan'); later samples count for it. */
  phase(name: string): void {
    let index = this.#phaseNames.indexOf(name);
    if (index < 0 && this.#phaseNames.length < MAX_PHASES) {
      index = this.#phaseNames.push(name) - 1;
      this.#phaseArrayBuffers[index] = 0;
      this.#slots[3 + index] = 0;
    }
    if (index < 0) return;
    this.#current = index;
    this.#slots[2] = index;
    this.#sampleArrayBuffers();
  }

  #sampleArrayBuffers(): void {
    const ab = process.memoryUsage().arrayBuffers;
    this.#phaseArrayBuffers[this.#current] = Math.max(this.#phaseArrayBuffers[this.#current] ?? 0, ab);
  }

  /** Starts the RSS worker (once); call before the first measurement. */
  async start(): Promise<void> {
    if (this.#worker) return;
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.#shared });
    await new Promise((r) => setTimeout(r, 50));
  }

  async stop(): Promise<void> {
    this.#worker?.postMessage('stop');
    await this.#worker?.terminate();
    this.#worker = undefined;
  }

  /** Runs `work` and returns its result with the memory peak above the idle baseline. */
  async measure<T>(work: () => Promise<T>): Promise<{ result: T; memory: MemoryPeak }> {
    fullGc();
    await new Promise((r) => setTimeout(r, 200));
    fullGc();
    const baseline = figures();
    const exact = resetHighWaterMark();
    this.#slots.fill(0);
    this.#slots[0] = baseline.rss;
    this.#phaseNames = [];
    this.#phaseArrayBuffers = [];
    this.phase('handler');
    const peak = { ...baseline };
    const sample = () => {
      const now = figures();
      peak.rss = Math.max(peak.rss, now.rss);
      peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
      peak.external = Math.max(peak.external, now.external);
      peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
      this.#phaseArrayBuffers[this.#current] = Math.max(
        this.#phaseArrayBuffers[this.#current] ?? 0,
        now.arrayBuffers,
      );
      this.#slots[3 + this.#current] = Math.max(this.#slots[3 + this.#current] ?? 0, now.rss);
    };
    const timer = setInterval(sample, 1);
    let result: T;
    try {
      result = await work();
    } finally {
      clearInterval(timer);
      sample();
    }
    const sampledRss = Math.max(peak.rss, this.#slots[0] ?? 0);
    const hwm = exact ? highWaterMark() : undefined;
    peak.rss = hwm ?? sampledRss;
    const phases = this.#phaseNames.map((name, i) => ({
      name,
      rss: this.#slots[3 + i] ?? 0,
      arrayBuffers: this.#phaseArrayBuffers[i] ?? 0,
    }));
    return {
      result,
      memory: {
        baseline,
        peak,
        phases,
        rssSource: hwm === undefined ? 'sampled' : 'VmHWM',
        samples: this.#slots[1] ?? 0,
      },
    };
  }
}
