import { Layer, type LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/**
 * Decodes an MPLS label stack (RFC 3032: 4 bytes per entry, bottom-of-stack bit in
 * the third byte) and guesses the payload from its first nibble, as routers and Zeek
 * do: MPLS carries no payload type. Anything but IPv4/IPv6 (pseudowires) is unsupported.
 */
export function decodeMpls(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  let o = off;
  for (;;) {
    if (end - o < 4) return fail(pkt, Problem.TRUNCATED_MPLS);
    const bottom = buf[o + 2]! & 0x01;
    o += 4;
    if (bottom !== 0) break;
  }
  pkt.cursor = o;
  if (o >= end) return fail(pkt, Problem.TRUNCATED_IP);
  const version = buf[o]! >> 4;
  if (version === 4) return Layer.IPV4;
  if (version === 6) return Layer.IPV6;
  return fail(pkt, Problem.UNSUPPORTED_MPLS_PAYLOAD);
}
