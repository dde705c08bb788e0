import { nextForIpProto } from './ip-protocols';
import type { LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

const MIN_HEADER = 20;

/**
 * Decodes an IPv4 header (RFC 791). Fields are kept as soon as the fixed 20 bytes are
 * captured, even when a later check fails. The total length lowers pkt.end to drop
 * Ethernet padding; a total length of 0 is a TSO / BIG TCP super-packet whose size
 * is presumed from the captured length (as tcpdump does). A non-first fragment sets
 * pkt.fragment and stops: it has no transport header.
 */
export function decodeIpv4(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  const captured = end - off;
  if (captured < 1) return fail(pkt, Problem.TRUNCATED_IPV4);
  if (buf[off]! >> 4 !== 4) return fail(pkt, Problem.INVALID_IP_VERSION);
  if (captured < MIN_HEADER) return fail(pkt, Problem.TRUNCATED_IPV4);

  // The header's first three 32-bit rows (RFC 791 3.1), one read each.
  const versionLength = view.getUint32(off); // version, IHL, TOS, total length
  const idFragment = view.getUint32(off + 4); // identification, flags, fragment offset
  const ttlProto = view.getUint32(off + 8); // TTL, protocol, header checksum
  pkt.ipVersion = 4;
  pkt.ipOffset = off;
  pkt.ipId = idFragment >>> 16;
  pkt.ttl = ttlProto >>> 24;
  pkt.ipProto = (ttlProto >>> 16) & 0xff;
  const src = pkt.src;
  const dst = pkt.dst;
  src[0] = 0;
  src[1] = 0;
  src[2] = 0xffff;
  src[3] = view.getUint32(off + 12);
  dst[0] = 0;
  dst[1] = 0;
  dst[2] = 0xffff;
  dst[3] = view.getUint32(off + 16);

  const headerLength = ((versionLength >>> 24) & 0x0f) * 4;
  if (headerLength < MIN_HEADER) return fail(pkt, Problem.BAD_IPV4_HEADER_LENGTH);
  let totalLength = versionLength & 0xffff;
  if (totalLength === 0) totalLength = captured;
  if (totalLength < headerLength) return fail(pkt, Problem.BAD_IPV4_TOTAL_LENGTH);
  if (captured < headerLength) return fail(pkt, Problem.TRUNCATED_IPV4);
  if (totalLength < captured) pkt.end = off + totalLength;
  pkt.ipPayloadLength = totalLength - headerLength;

  if ((idFragment & 0x1fff) !== 0) {
    pkt.fragment = true;
    return fail(pkt, Problem.IPV4_FRAGMENT);
  }
  pkt.cursor = off + headerLength;
  return nextForIpProto(pkt, pkt.ipProto);
}

/**
 * True when the IPv4 header at `off` has a valid checksum (RFC 1071 one's complement
 * sum over the header is 0xffff). False when the header is not fully in `buf`.
 * Not used while decoding: capture NICs often leave checksums to offload.
 */
export function ipv4HeaderChecksumOk(buf: Buffer, off: number): boolean {
  if (off < 0 || off + MIN_HEADER > buf.length) return false;
  const headerLength = (buf[off]! & 0x0f) * 4;
  if (headerLength < MIN_HEADER || off + headerLength > buf.length) return false;
  let sum = 0;
  for (let i = off; i < off + headerLength; i += 2) sum += buf.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}
