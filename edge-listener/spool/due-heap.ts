interface Slot {
  id: string;
  atMs: number;
  version: number;
}

/**
 * Min-heap of (next attempt time, id) so the forwarder finds due entries in O(log n) even with a large
 * backlog waiting on the function. Entries are never updated in place: a reschedule pushes a new slot with a
 * higher version and the stale one is skipped when it surfaces (lazy deletion).
 */
export class DueHeap {
  readonly #heap: Slot[] = [];

  get size(): number {
    return this.#heap.length;
  }

  push(id: string, atMs: number, version: number): void {
    const h = this.#heap;
    h.push({ id, atMs, version });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.atMs <= h[i]!.atMs) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  peek(): Slot | undefined {
    return this.#heap[0];
  }

  pop(): Slot | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.atMs < h[m]!.atMs) m = l;
        if (r < h.length && h[r]!.atMs < h[m]!.atMs) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
