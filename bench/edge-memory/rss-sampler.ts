import { readFileSync } from 'node:fs';

/** One reading of a process's memory from /proc/PID/status (Linux). */
export interface RssSample {
  /** Milliseconds since the sampler started. */
  tMs: number;
  /** VmRSS: resident memory of the whole process, every thread (the forwarding worker included). */
  rssBytes: number;
  /** What the benchmark was doing then: "start", "idle", "message", "after". */
  phase: string;
}

export function procMemory(pid: number): { rssBytes: number; hwmBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssBytes: kb('VmRSS') * 1024, hwmBytes: kb('VmHWM') * 1024 };
}

/** Reads VmRSS every `everyMs` until stopped; `phase` labels the samples taken from then on. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  phase = 'start';
  readonly #t0 = Date.now();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    everyMs = 50,
  ) {
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample(): void {
    try {
      const { rssBytes } = procMemory(this.pid);
      this.samples.push({ tMs: Date.now() - this.#t0, rssBytes, phase: this.phase });
    } catch {
      // the process has exited
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  of(phase: string): number[] {
    return this.samples.filter((s) => s.phase === phase).map((s) => s.rssBytes);
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}
