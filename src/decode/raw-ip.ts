import { Layer, type LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/**
 * LINKTYPE_RAW (101): an IP packet with no link header; the version nibble says which.
 * LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229) start directly at the IPv4/IPv6
 * decoder instead (see link-types.ts), which rejects the other version.
 */
export function decodeRawIp(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  if (end - off < 1) return fail(pkt, Problem.TRUNCATED_IP);
  const version = buf[off]! >> 4;
  if (version === 4) return Layer.IPV4;
  if (version === 6) return Layer.IPV6;
  return fail(pkt, Problem.INVALID_IP_VERSION);
}
