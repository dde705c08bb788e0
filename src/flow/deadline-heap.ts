/**
 * A binary min-heap of (deadline, item) used for flow expiry. Items are re-armed lazily:
 * a flow is queued once under its deadline at that time; when the entry comes up, the owner
 * recomputes the flow's real deadline (packets may have pushed it later) and either expires
 * it or queues it again. So a packet never touches the heap, and each flow costs
 * O(log n) per re-arm, at most one re-arm per timeout period of activity.
 */
export class DeadlineHeap<T> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];

  get length(): number {
    return this.times.length;
  }

  /** Earliest deadline, or Infinity when empty. */
  peekTime(): number {
    return this.times.length > 0 ? this.times[0]! : Infinity;
  }

  push(time: number, item: T): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(time);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      times[i] = times[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = time;
    items[i] = item;
  }

  /** Removes and returns the earliest item (heap must not be empty). */
  pop(): T {
    const times = this.times;
    const items = this.items;
    const top = items[0]!;
    const lastTime = times.pop()!;
    const lastItem = items.pop()!;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r]! < times[l]! ? r : l;
        if (times[c]! >= lastTime) break;
        times[i] = times[c]!;
        items[i] = items[c]!;
        i = c;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    return top;
  }
}
