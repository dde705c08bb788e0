/**
 * The flow table, keyed by a 31-bit hash of the 4-tuple with candidates compared word by
 * word. Lookups build no strings and allocate nothing. The hash is symmetric (the two endpoint hashes are combined in sorted order), so
 * both directions of a connection find the same entry without normalizing the tuple first.
 */
export interface TableEndpoint {
  /** True when (addr, port) is this endpoint. */
  is(addr: Uint32Array, port: number): boolean;
}

export interface TableEntry<E> {
  /** The two endpoints of the tuple (either may be the sender of a packet). */
  readonly a: TableEndpoint;
  readonly b: TableEndpoint;
  /** Type brand only (never set): the table stores entries of one type. */
  readonly self?: E;
  hash: number;
  /** Index in the table's entry array while stored, else -1. */
  tableSlot: number;
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function hashEndpoint(w: Uint32Array, port: number): number {
  return fmix(mix(mix(mix(mix(mix(0x2545f491, w[0]!), w[1]!), w[2]!), w[3]!), port));
}

/** Symmetric 31-bit hash of (src, sport, dst, dport). */
export function tupleHash(src: Uint32Array, sport: number, dst: Uint32Array, dport: number): number {
  const x = hashEndpoint(src, sport) >>> 0;
  const y = hashEndpoint(dst, dport) >>> 0;
  const lo = x < y ? x : y;
  const hi = x < y ? y : x;
  return fmix(mix(mix(0x5bd1e995, lo | 0), hi | 0)) & 0x7fffffff;
}


const EMPTY = -1;

/**
 * Open addressing with linear probing over typed arrays: `slots` holds an index into
 * `entries` (or -1), `hashes` the entry's hash so that most probes never touch an object.
 * Deletion shifts the following cluster back (no tombstones). The table doubles at 50% load.
 * Measured against a Map<hash, chain> on 250k concurrent flows: the Map spent most of the
 * tracker's time in its own lookups; this layout is several times faster there.
 */
export class FlowTable<E extends TableEntry<E>> {
  private slots: Int32Array;
  private hashes: Int32Array;
  private mask: number;
  private entries: (E | null)[] = [];
  private free: number[] = [];
  private count = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.slots = new Int32Array(cap).fill(EMPTY);
    this.hashes = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The entry for this tuple in either direction, or null. `hash` from tupleHash(). */
  find(hash: number, src: Uint32Array, sport: number, dst: Uint32Array, dport: number): E | null {
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    let i = hash & mask;
    for (;;) {
      const slot = slots[i]!;
      if (slot === EMPTY) return null;
      if (hashes[i] === hash) {
        const e = this.entries[slot]!;
        if (
          (e.a.is(src, sport) && e.b.is(dst, dport)) ||
          (e.b.is(src, sport) && e.a.is(dst, dport))
        ) {
          return e;
        }
      }
      i = (i + 1) & mask;
    }
  }

  /** Inserts an entry whose `hash` is set (the caller checked it is absent). */
  insert(e: E): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const slot = this.free.length > 0 ? this.free.pop()! : this.entries.length;
    if (slot === this.entries.length) this.entries.push(e);
    else this.entries[slot] = e;
    e.tableSlot = slot;
    this.place(e.hash, slot);
    this.count++;
  }

  remove(e: E): boolean {
    const slots = this.slots;
    const hashes = this.hashes;
    const mask = this.mask;
    let i = e.hash & mask;
    for (;;) {
      const slot = slots[i]!;
      if (slot === EMPTY) return false;
      if (slot === e.tableSlot && this.entries[slot] === e) break;
      i = (i + 1) & mask;
    }
    this.entries[e.tableSlot] = null;
    this.free.push(e.tableSlot);
    e.tableSlot = -1;
    this.count--;
    // Backward-shift deletion: move later members of the cluster into the hole when their
    // home position allows it.
    let hole = i;
    let j = (i + 1) & mask;
    for (;;) {
      const slot = slots[j]!;
      if (slot === EMPTY) break;
      const home = hashes[j]! & mask;
      // Can the entry at j move to hole? Only if home is not cyclically in (hole, j].
      const dist = (j - home) & mask;
      const toHole = (j - hole) & mask;
      if (dist >= toHole) {
        slots[hole] = slot;
        hashes[hole] = hashes[j]!;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    slots[hole] = EMPTY;
    return true;
  }

  /** Every entry (order unspecified). */
  *values(): IterableIterator<E> {
    for (const e of this.entries) if (e !== null) yield e;
  }

  private place(hash: number, slot: number): void {
    const mask = this.mask;
    let i = hash & mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
    this.slots[i] = slot;
    this.hashes[i] = hash;
  }

  private grow(): void {
    const cap = this.slots.length * 2;
    this.slots = new Int32Array(cap).fill(EMPTY);
    this.hashes = new Int32Array(cap);
    this.mask = cap - 1;
    for (const e of this.entries) if (e !== null) this.place(e.hash, e.tableSlot);
  }
}
