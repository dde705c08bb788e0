import { IpProto, nextForIpProto } from './ip-protocols';
import type { LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem, fail } from './problems';

const HEADER = 40;
/** RFC 2675 Jumbo Payload option type in a hop-by-hop header. */
const JUMBO_OPTION = 0xc2;

/** True for the extension headers the decoders walk past (RFC 8200 section 4, RFC 4302 AH). */
export function isIpv6Extension(next: number): boolean {
  return (
    next === IpProto.HOP_BY_HOP ||
    next === IpProto.IPV6_ROUTING ||
    next === IpProto.IPV6_FRAGMENT ||
    next === IpProto.IPV6_DEST_OPTIONS ||
    next === IpProto.AH ||
    next === IpProto.MOBILITY
  );
}

/**
 * Length in bytes of the extension header at `o` whose type is `next`; the caller has
 * checked that its first 2 bytes are captured. AH counts 4-byte units minus 2 (RFC 4302
 * 2.2); the fragment header is always 8; the others count 8-byte units minus 1.
 */
export function ipv6ExtensionLength(buf: Buffer, o: number, next: number): number {
  if (next === IpProto.IPV6_FRAGMENT) return 8;
  if (next === IpProto.AH) return (buf[o + 1]! + 2) * 4;
  return (buf[o + 1]! + 1) * 8;
}

/** The Jumbo Payload length in the hop-by-hop options `[from, to)`, or -1 when absent. */
function findJumbo(buf: Buffer, view: DataView, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const type = buf[i]!;
    if (type === 0) {
      i++; // Pad1
      continue;
    }
    if (i + 2 > to) return -1;
    const len = buf[i + 1]!;
    if (type === JUMBO_OPTION && len === 4 && i + 6 <= to) return view.getUint32(i + 2);
    i += 2 + len;
  }
  return -1;
}

/**
 * Decodes an IPv6 header and its extension chain (hop-by-hop, routing, fragment,
 * destination options, AH, mobility). ESP (50) and no-next-header (59) end as
 * Transport.OTHER_IP. A payload length of 0 is a jumbogram: the hop-by-hop Jumbo
 * option gives the size (Linux BIG TCP), or without it the captured length is
 * presumed, as for IPv4 TSO. pkt.ipPayloadLength is what follows the last extension
 * header. A non-first fragment sets pkt.fragment and stops.
 */
export function decodeIpv6(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  const captured = end - off;
  if (captured < 1) return fail(pkt, Problem.TRUNCATED_IPV6);
  if (buf[off]! >> 4 !== 6) return fail(pkt, Problem.INVALID_IP_VERSION);
  if (captured < HEADER) return fail(pkt, Problem.TRUNCATED_IPV6);

  pkt.ipVersion = 6;
  pkt.ipOffset = off;
  pkt.ttl = buf[off + 7]!;
  for (let i = 0; i < 4; i++) {
    pkt.src[i] = view.getUint32(off + 8 + 4 * i);
    pkt.dst[i] = view.getUint32(off + 24 + 4 * i);
  }
  let next = buf[off + 6]!;
  pkt.ipProto = next;

  const payloadLength = view.getUint16(off + 4);
  const start = off + HEADER;
  // Where the packet ends on the wire; for a jumbogram, presumed until the option says.
  let wireEnd = payloadLength === 0 ? end : start + payloadLength;
  if (wireEnd < end) pkt.end = end = wireEnd;

  let o = start;
  while (isIpv6Extension(next)) {
    if (wireEnd - o < 2) return fail(pkt, Problem.BAD_IPV6_PAYLOAD_LENGTH);
    if (end - o < 2) return fail(pkt, Problem.TRUNCATED_IPV6_EXTENSION);
    const length = ipv6ExtensionLength(buf, o, next);
    if (wireEnd - o < length) return fail(pkt, Problem.BAD_IPV6_PAYLOAD_LENGTH);
    if (end - o < length) return fail(pkt, Problem.TRUNCATED_IPV6_EXTENSION);

    if (next === IpProto.HOP_BY_HOP && payloadLength === 0 && o === start) {
      const jumbo = findJumbo(buf, view, o + 2, o + length);
      if (jumbo !== -1) {
        // RFC 2675 section 2: a jumbo length must exceed 65535 (Linux BIG TCP honours this).
        if (jumbo <= 0xffff) return fail(pkt, Problem.BAD_IPV6_JUMBO);
        wireEnd = start + jumbo;
        if (wireEnd < end) pkt.end = end = wireEnd;
      }
    } else if (next === IpProto.IPV6_FRAGMENT) {
      pkt.ipId = view.getUint32(o + 4);
      if ((view.getUint16(o + 2) & 0xfff8) !== 0) {
        pkt.ipProto = buf[o]!;
        pkt.fragment = true;
        return fail(pkt, Problem.IPV6_FRAGMENT);
      }
    }
    next = buf[o]!;
    o += length;
  }
  if (wireEnd < o) return fail(pkt, Problem.BAD_IPV6_PAYLOAD_LENGTH);
  pkt.ipPayloadLength = wireEnd - o;
  pkt.cursor = o;
  return nextForIpProto(pkt, next);
}
