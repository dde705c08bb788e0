/**
 * The attempts the tracker ended early to stay within its flow limit (a SYN flood): a
 * retransmission of one of their SYNs must not count as a new attempt. One entry per
 * attempt, keyed by its 4-tuple hash and the ISN (a retransmitted SYN keeps its ISN), in a
 * direct-mapped table: a newer attempt may overwrite an old one, which then, if it
 * retransmits after all that, counts again (said in the report's warning).
 */
export const EVICTED_MEMORY_SLOTS = 1 << 19;

export class EvictedAttempts {
  private readonly keys = new Uint32Array(EVICTED_MEMORY_SLOTS * 2);
  private readonly used = new Uint8Array(EVICTED_MEMORY_SLOTS);

  remember(tupleHash: number, isn: number): void {
    const i = slotOf(tupleHash, isn);
    this.keys[2 * i] = tupleHash;
    this.keys[2 * i + 1] = isn;
    this.used[i] = 1;
  }

  has(tupleHash: number, isn: number): boolean {
    const i = slotOf(tupleHash, isn);
    return this.used[i] === 1 && this.keys[2 * i] === tupleHash >>> 0 && this.keys[2 * i + 1] === isn >>> 0;
  }
}

function slotOf(tupleHash: number, isn: number): number {
  return (Math.imul(tupleHash ^ Math.imul(isn, 0x9e3779b1), 0x85ebca6b) >>> 12) & (EVICTED_MEMORY_SLOTS - 1);
}
