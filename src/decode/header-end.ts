import { decodeFrame } from './dispatch';
import { IpProto } from './ip-protocols';
import { isIpv6Extension, ipv6ExtensionLength } from './ipv6';
import { Layer } from './layer';
import { DecodedPacket, Transport } from './packet';
import { problemCategory } from './problems';

const ICMP_HEADER = 8;
const UDP_HEADER = 8;
const VXLAN_HEADER = 8;
const ARP_FIXED = 8;

/**
 * Where the headers synscope decodes end in the frame `buf[start, end)`: Ethernet,
 * VLAN, IP with IPv6 extensions, TCP with its options, UDP, ICMP with the header it
 * quotes, ARP, and VXLAN's inner frame. What follows is payload. A frame cut inside a
 * header is all header and stays whole; one the decoder rejects keeps the fewest bytes
 * that still decode to the same problem, layer and transport, so a capture cut here
 * re-analyzes like the original. `pkt` is scratch space.
 */
export function headerEnd(linkType: number, buf: Buffer, start: number, end: number, pkt: DecodedPacket = new DecodedPacket()): number {
  decodeFrame(linkType, buf, start, end, pkt);
  if (pkt.problem === 0) return Math.min(end, decodedEnd(buf, end, pkt));
  if (problemCategory(pkt.problem) === 'truncated') return end;
  return shortestAlike(linkType, buf, start, end, pkt);
}

function decodedEnd(buf: Buffer, end: number, pkt: DecodedPacket): number {
  const at = pkt.cursor;
  switch (pkt.lastLayer) {
    case Layer.ICMPV4:
    case Layer.ICMPV6:
      // An error's cursor is past the 8-byte header and its quote follows; other messages stop before the header.
      return pkt.quotedOffset >= 0 ? quoteEnd(buf, end, pkt) : at + ICMP_HEADER;
    case Layer.VXLAN:
      // UDP to 4789 without the VXLAN I flag: the 8 bytes read to tell it.
      return at + VXLAN_HEADER;
    case Layer.ARP:
      // Ethernet/IPv4 ARP moved the cursor past its 28 bytes; another kind is all addresses.
      return pkt.transport === Transport.ARP ? at : at + ARP_FIXED + 2 * ((buf[at + 4] ?? 0) + (buf[at + 5] ?? 0));
    default:
      return at;
  }
}

/** The end of the IP header an ICMP error quotes and of the transport header behind it (TCP with options when quoted whole). */
function quoteEnd(buf: Buffer, end: number, pkt: DecodedPacket): number {
  const q = pkt.quotedOffset;
  let t: number;
  let proto: number;
  if (pkt.quotedIpVersion === 4) {
    t = q + (buf[q]! & 0x0f) * 4;
    proto = buf[q + 9]!;
    if ((buf.readUInt16BE(q + 6) & 0x1fff) !== 0) return t;
  } else {
    t = q + 40;
    proto = buf[q + 6]!;
    while (isIpv6Extension(proto) && t + 8 <= end) {
      const next = buf[t]!;
      const fragment = proto === IpProto.IPV6_FRAGMENT && (buf.readUInt16BE(t + 2) & 0xfff8) !== 0;
      t += ipv6ExtensionLength(buf, t, proto);
      if (fragment) return t;
      proto = next;
    }
  }
  if (proto === IpProto.TCP) {
    const dataOffset = t + 12 < end ? (buf[t + 12]! >> 4) * 4 : 0;
    return t + Math.max(8, dataOffset);
  }
  if (proto === IpProto.UDP) return t + UDP_HEADER;
  if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) return t + ICMP_HEADER;
  return t;
}

/**
 * The shortest cut of a rejected frame that the decoder still rejects the same way. Only
 * a checked cut is returned (else the frame's end); a binary search bounds the cost of
 * hostile traffic (18 decodes at the largest snaplen).
 */
function shortestAlike(linkType: number, buf: Buffer, start: number, end: number, pkt: DecodedPacket): number {
  const problem = pkt.problem;
  const layer = pkt.lastLayer;
  const transport = pkt.transport;
  let lo = Math.min(pkt.cursor, end);
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    decodeFrame(linkType, buf, start, mid, pkt);
    if (pkt.problem === problem && pkt.lastLayer === layer && pkt.transport === transport) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}
