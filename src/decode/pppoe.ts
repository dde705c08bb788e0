import { Layer, type LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/** PPPoE header (RFC 2516 section 4): ver/type, code, session id, length. */
const HEADER = 6;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;

/**
 * Decodes a PPPoE session-stage header (ethertype 0x8864) and the PPP protocol field
 * behind it. The PPPoE length trims Ethernet padding. Control protocols (LCP, IPCP...)
 * end decoding without a problem.
 */
export function decodePppoe(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < HEADER) return fail(pkt, Problem.TRUNCATED_PPPOE);
  // RFC 2516: VER = 1, TYPE = 1, and CODE = 0 for session data.
  if (buf[off] !== 0x11 || buf[off + 1] !== 0x00) return fail(pkt, Problem.BAD_PPPOE_HEADER);
  const length = view.getUint16(off + 4);
  const payloadEnd = off + HEADER + length;
  if (payloadEnd < end) pkt.end = payloadEnd;
  const o = off + HEADER;
  if (o >= pkt.end) return fail(pkt, length === 0 ? Problem.BAD_PPPOE_HEADER : Problem.TRUNCATED_PPPOE);
  // RFC 1661 6.5: a compressed (1-byte) protocol field has its low bit set.
  const fieldLength = (buf[o]! & 0x01) === 1 ? 1 : 2;
  if (length < fieldLength) return fail(pkt, Problem.BAD_PPPOE_HEADER);
  if (pkt.end - o < fieldLength) return fail(pkt, Problem.TRUNCATED_PPPOE);
  const protocol = fieldLength === 1 ? buf[o]! : view.getUint16(o);
  pkt.cursor = o + fieldLength;
  if (protocol === PPP_IPV4) return Layer.IPV4;
  if (protocol === PPP_IPV6) return Layer.IPV6;
  return Layer.DONE;
}
