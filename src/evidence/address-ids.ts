/**
 * Small numbers for IPv6 addresses held as 4 x uint32 words, exactly: an address always
 * gets the same id, ids count up from 0 in first-seen order, and no text is made. Evidence
 * keyed by an IPv6 address uses these instead of the address text, which cost a formatting
 * and a string hash per packet (on the bench file, tens of thousands of handshakes).
 * Bounded: once `capacity` addresses have ids, a new one gets none (-1).
 *
 * Open addressing with linear probing over an Int32Array of ids (-1: empty); the words of
 * id i are words[4i..4i+3]. The table doubles at half load, the words as ids are added.
 */
export class AddressIds {
  private words = new Uint32Array(4 * 256);
  private slots = emptySlots(512);
  private count = 0;

  constructor(private readonly capacity: number) {}

  /** Addresses that have an id. */
  get size(): number {
    return this.count;
  }

  /** The id of `address`, or -1 when it has none (nothing is added). */
  find(address: Uint32Array): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = addressHash(address) & mask; ; i = (i + 1) & mask) {
      const id = slots[i]!;
      if (id === -1 || this.is(id, address)) return id;
    }
  }

  /** The id of `address`, given one when it is new; -1 when it is new and `capacity` addresses have ids. */
  id(address: Uint32Array): number {
    const known = this.find(address);
    if (known >= 0 || this.count >= this.capacity) return known;
    if ((this.count + 1) * 2 > this.slots.length) this.growSlots();
    if (4 * (this.count + 1) > this.words.length) this.growWords();
    const id = this.count++;
    this.words.set(address.subarray(0, 4), 4 * id);
    this.place(id);
    return id;
  }

  /** Copies the words of `id` into `out` (4 words) and returns it. */
  wordsOf(id: number, out: Uint32Array): Uint32Array {
    out.set(this.words.subarray(4 * id, 4 * id + 4));
    return out;
  }

  private is(id: number, address: Uint32Array): boolean {
    const w = this.words;
    const at = 4 * id;
    return w[at + 3] === address[3] && w[at + 2] === address[2] && w[at + 1] === address[1] && w[at] === address[0];
  }

  private place(id: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = addressHash(this.words.subarray(4 * id, 4 * id + 4)) & mask;
    while (slots[i] !== -1) i = (i + 1) & mask;
    slots[i] = id;
  }

  private growSlots(): void {
    this.slots = emptySlots(this.slots.length * 2);
    for (let id = 0; id < this.count; id++) this.place(id);
  }

  private growWords(): void {
    const words = new Uint32Array(this.words.length * 2);
    words.set(this.words);
    this.words = words;
  }
}

function emptySlots(n: number): Int32Array {
  return new Int32Array(n).fill(-1);
}

/** The four words mixed (an odd multiplier each, then murmur3's finalizer), non-negative. */
function addressHash(w: Uint32Array): number {
  let h = Math.imul(w[0]!, 0x27d4eb2f) ^ Math.imul(w[1]!, 0xc2b2ae3d) ^ Math.imul(w[2]!, 0x85ebca77) ^ Math.imul(w[3]!, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x7fffffff;
}
