/**
 * Which source MACs each (address, interface) pair showed, for the address-collision
 * rule. Almost every address shows one MAC, so the common case is one probe into typed
 * arrays keyed by number (no strings, no Map per address); only a pair that shows a second
 * MAC gets a small map of its own. Bounded: once the table is 3/4 full, new pairs are ignored.
 */
export class MacSightings {
  private readonly keys: Float64Array;
  private readonly firstMac: Float64Array;
  private readonly firstCount: Float64Array;
  private readonly mask: number;
  private readonly shift: number;
  private size = 0;
  /** Pairs that showed more than one MAC: key → (MAC → packets), the first MAC included. */
  private readonly multi = new Map<number, Map<number, number>>();

  constructor(capacityLog2 = 16) {
    const capacity = 1 << capacityLog2;
    this.keys = new Float64Array(capacity).fill(-1);
    this.firstMac = new Float64Array(capacity);
    this.firstCount = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - capacityLog2;
  }

  /**
   * A table filled elsewhere with this one's layout and order (the C port in
   * native/src/engine/frame-evidence.c): its slots, and per slot with more than one MAC
   * [slot, n, (MAC, packets) x n].
   */
  static fromSlots(keys: Float64Array, firstMac: Float64Array, firstCount: Float64Array, more: Float64Array): MacSightings {
    const s = new MacSightings(Math.log2(keys.length));
    s.keys.set(keys);
    s.firstMac.set(firstMac);
    s.firstCount.set(firstCount);
    for (const key of keys) if (key !== -1) s.size++;
    for (let at = 0; at < more.length; ) {
      const n = more[at + 1]!;
      const byMac = new Map<number, number>();
      for (let j = 0; j < n; j++) byMac.set(more[at + 2 + 2 * j]!, more[at + 3 + 2 * j]!);
      s.multi.set(keys[more[at]!]!, byMac);
      at += 2 + 2 * n;
    }
    return s;
  }

  /** Record one packet from `key` (any non-negative integer below 2^53) with source MAC `mac` (48-bit). */
  note(key: number, mac: number): void {
    const keys = this.keys;
    let i = homeSlot(key, this.shift);
    for (;;) {
      const k = keys[i]!;
      if (k === key) break;
      if (k === -1) {
        if (this.size >= ((this.mask + 1) * 3) / 4) return;
        keys[i] = key;
        this.firstMac[i] = mac;
        this.size++;
        break;
      }
      i = (i + 1) & this.mask;
    }
    if (this.firstMac[i] === mac) {
      this.firstCount[i]!++;
      return;
    }
    let byMac = this.multi.get(key);
    if (byMac === undefined) {
      byMac = new Map();
      this.multi.set(key, byMac);
    }
    byMac.set(mac, (byMac.get(mac) ?? 0) + 1);
  }

  /** Every pair with its MACs and packet counts. */
  entries(): [key: number, macs: [mac: number, packets: number][]][] {
    const out: [number, [number, number][]][] = [];
    this.forEach((key, mac, packets, more) => {
      const macs: [number, number][] = [[mac, packets]];
      if (more !== undefined) for (const [m, n] of more) macs.push([m, n]);
      out.push([key, macs]);
    });
    return out;
  }

  /** Every pair: its first MAC and that MAC's packets, and the other MACs it showed (MAC → packets), if any. */
  forEach(fn: (key: number, firstMac: number, packets: number, more: ReadonlyMap<number, number> | undefined) => void): void {
    const { keys, firstMac, firstCount, multi } = this;
    const hasMore = multi.size > 0;
    for (let i = 0; i <= this.mask; i++) {
      const key = keys[i]!;
      if (key !== -1) fn(key, firstMac[i]!, firstCount[i]!, hasMore ? multi.get(key) : undefined);
    }
  }
}

/**
 * Fibonacci hashing: the TOP bits of the product. Its low bits depend only on the key's
 * low bits, and keys are address * 2^16 + interface, so clients of one /16 would share
 * a handful of slots and every new one would scan the whole cluster.
 */
export function homeSlot(key: number, shift: number): number {
  return Math.imul((key % 4294967296) ^ Math.floor(key / 4294967296), 0x9e3779b1) >>> shift;
}
