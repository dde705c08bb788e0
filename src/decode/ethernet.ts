import { nextForEtherType } from './ether-types';
import type { LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/** Ethernet II header: destination MAC, source MAC, ethertype. */
const HEADER = 14;

/** Decodes an Ethernet II header at `off`; MACs stay in the buffer at pkt.ethOffset. */
export function decodeEthernet(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < HEADER) return fail(pkt, Problem.TRUNCATED_ETHERNET);
  pkt.ethOffset = off;
  pkt.cursor = off + HEADER;
  return nextForEtherType(pkt, view.getUint16(off + 12));
}
