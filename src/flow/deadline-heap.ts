const ABSENT = -1;

/**
 * A binary min-heap of flow slots ordered by deadline (ties by creation order, so expiry is
 * deterministic), holding each slot at most once: `pos[slot]` is its index in the heap.
 *
 * Re-arming is lazy: a packet can only move a flow's deadline earlier in the heap
 * (`schedule` never delays). When the entry comes up, the owner recomputes the flow's real
 * deadline (packets may have pushed it later) and either expires the flow or schedules it
 * again. So most packets leave the heap alone, and each flow costs O(log n) per re-arm, at
 * most one re-arm per timeout period of activity. A flow that leaves early is removed, so
 * the heap never holds more entries than there are flows.
 */
export class DeadlineHeap {
  private times = new Float64Array(1024);
  private orders = new Float64Array(1024);
  private slots = new Int32Array(1024);
  private pos = new Int32Array(1024).fill(ABSENT);
  private n = 0;

  get length(): number {
    return this.n;
  }

  /** Earliest deadline, or Infinity when empty. */
  peekTime(): number {
    return this.n > 0 ? this.times[0]! : Infinity;
  }

  /**
   * Queues `slot` under `time`, or moves it earlier when it is queued under a later time.
   * `order` breaks ties (the flow's creation number).
   */
  schedule(slot: number, time: number, order: number): void {
    if (slot >= this.pos.length) this.growPos(slot);
    let i = this.pos[slot]!;
    if (i === ABSENT) {
      if (this.n === this.times.length) this.growHeap();
      i = this.n++;
    } else if (time >= this.times[i]!) {
      return;
    }
    this.siftUp(i, time, order, slot);
  }

  /** Removes and returns the slot with the earliest deadline (heap must not be empty). */
  pop(): number {
    const top = this.slots[0]!;
    this.pos[top] = ABSENT;
    const last = --this.n;
    if (last > 0) this.siftDown(0, this.times[last]!, this.orders[last]!, this.slots[last]!);
    return top;
  }

  /** Drops `slot` when queued. */
  remove(slot: number): void {
    if (slot >= this.pos.length) return;
    const i = this.pos[slot]!;
    if (i === ABSENT) return;
    this.pos[slot] = ABSENT;
    const last = --this.n;
    if (i === last) return;
    const time = this.times[last]!;
    const order = this.orders[last]!;
    const moved = this.slots[last]!;
    if (i > 0 && this.before(time, order, (i - 1) >> 1)) this.siftUp(i, time, order, moved);
    else this.siftDown(i, time, order, moved);
  }

  /** Whether (time, order) sorts before the entry at heap index j. */
  private before(time: number, order: number, j: number): boolean {
    const tj = this.times[j]!;
    return time < tj || (time === tj && order < this.orders[j]!);
  }

  private siftUp(i: number, time: number, order: number, slot: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(time, order, parent)) break;
      this.put(i, parent);
      i = parent;
    }
    this.set(i, time, order, slot);
  }

  private siftDown(i: number, time: number, order: number, slot: number): void {
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(this.times[r]!, this.orders[r]!, l) ? r : l;
      if (!this.beforeEntry(c, time, order)) break;
      this.put(i, c);
      i = c;
    }
    this.set(i, time, order, slot);
  }

  /** Whether the entry at heap index c sorts before (time, order). */
  private beforeEntry(c: number, time: number, order: number): boolean {
    const tc = this.times[c]!;
    return tc < time || (tc === time && this.orders[c]! < order);
  }

  /** Moves the entry at heap index `from` to index `to`. */
  private put(to: number, from: number): void {
    const slot = this.slots[from]!;
    this.times[to] = this.times[from]!;
    this.orders[to] = this.orders[from]!;
    this.slots[to] = slot;
    this.pos[slot] = to;
  }

  private set(i: number, time: number, order: number, slot: number): void {
    this.times[i] = time;
    this.orders[i] = order;
    this.slots[i] = slot;
    this.pos[slot] = i;
  }

  private growHeap(): void {
    const cap = this.times.length * 2;
    const times = new Float64Array(cap);
    times.set(this.times);
    const orders = new Float64Array(cap);
    orders.set(this.orders);
    const slots = new Int32Array(cap);
    slots.set(this.slots);
    this.times = times;
    this.orders = orders;
    this.slots = slots;
  }

  private growPos(slot: number): void {
    let cap = this.pos.length * 2;
    while (cap <= slot) cap *= 2;
    const pos = new Int32Array(cap).fill(ABSENT);
    pos.set(this.pos);
    this.pos = pos;
  }
}
