import type { PacketRecord } from './record';

/**
 * An iterator over `source.next()` that returns one reused result object, so a
 * `for...of` loop over millions of packets allocates nothing per packet.
 */
export function recordIterator(source: { next(): PacketRecord | null }): Iterator<PacketRecord> {
  const result = { done: false, value: undefined as unknown as PacketRecord };
  return {
    next(): IteratorResult<PacketRecord> {
      const rec = source.next();
      if (rec === null) {
        result.done = true;
        result.value = undefined as unknown as PacketRecord;
      } else {
        result.value = rec;
      }
      return result as IteratorResult<PacketRecord>;
    },
  };
}
