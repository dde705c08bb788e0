import { nextForEtherType } from './ether-types';
import type { LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/**
 * Linux cooked v2 header (LINKTYPE_LINUX_SLL2, 276): protocol, reserved, interface
 * index (4), ARPHRD (2), packet type (1), address length (1), 8-byte address.
 */
const HEADER = 20;
const ARPHRD_ETHER = 1;

/** Decodes an SLL2 header, keeping the interface index in pkt.sllIfIndex. */
export function decodeSll2(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < HEADER) return fail(pkt, Problem.TRUNCATED_SLL2);
  pkt.sllIfIndex = view.getUint32(off + 4);
  pkt.sllPacketType = buf[off + 10]!;
  if (view.getUint16(off + 8) === ARPHRD_ETHER && buf[off + 11] === 6) pkt.sllMacOffset = off + 12;
  pkt.cursor = off + HEADER;
  return nextForEtherType(pkt, view.getUint16(off));
}
