import { nextForEtherType } from './ether-types';
import type { LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/**
 * Decodes one 802.1Q / 802.1ad tag (the 4 bytes after the TPID: TCI, inner type).
 * A stacked tag names VLAN again, so QinQ needs no special case. The first four VLAN
 * ids (outermost first) are kept in pkt.vlanIds; pkt.vlanCount counts all of them.
 */
export function decodeVlan(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < 4) return fail(pkt, Problem.TRUNCATED_VLAN);
  if (pkt.vlanCount < pkt.vlanIds.length) pkt.vlanIds[pkt.vlanCount] = view.getUint16(off) & 0x0fff;
  pkt.vlanCount++;
  pkt.cursor = off + 4;
  return nextForEtherType(pkt, view.getUint16(off + 2));
}
