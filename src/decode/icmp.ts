import { IpProto } from './ip-protocols';
import { isIpv6Extension, ipv6ExtensionLength } from './ipv6';
import { Layer, type LayerId } from './layer';
import { Transport, type DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/** Type, code, checksum and the 4-byte rest-of-header; an error's quote follows. */
const HEADER = 8;

/** ICMPv4 errors that quote the offending datagram (RFC 792): unreachable, source quench, redirect, time exceeded, parameter problem. */
function isIcmpv4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** ICMPv6 errors (RFC 4443 2.1): destination unreachable, packet too big, time exceeded, parameter problem. */
function isIcmpv6Error(type: number): boolean {
  return type >= 1 && type <= 4;
}

/**
 * Reads the IP header an ICMP error quotes at `q`, plus the first 8 bytes of its
 * transport header (RFC 792 / RFC 1812 4.3.2.3: at least that much is quoted), into the
 * pkt.quoted* fields. For TCP those 8 bytes hold the ports and sequence number, which
 * is what ties the error to a SYN.
 */
function decodeQuote(buf: Buffer, q: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - q < 1) return fail(pkt, Problem.TRUNCATED_ICMP_QUOTE);
  const version = buf[q]! >> 4;
  let t: number;
  let proto: number;
  if (version === 4) {
    if (end - q < 20) return fail(pkt, Problem.TRUNCATED_ICMP_QUOTE);
    const headerLength = (buf[q]! & 0x0f) * 4;
    if (headerLength < 20) return fail(pkt, Problem.BAD_IPV4_HEADER_LENGTH);
    pkt.quotedIpVersion = 4;
    pkt.quotedOffset = q;
    pkt.quotedSrc[0] = 0;
    pkt.quotedSrc[1] = 0;
    pkt.quotedSrc[2] = 0xffff;
    pkt.quotedSrc[3] = view.getUint32(q + 12);
    pkt.quotedDst[0] = 0;
    pkt.quotedDst[1] = 0;
    pkt.quotedDst[2] = 0xffff;
    pkt.quotedDst[3] = view.getUint32(q + 16);
    proto = buf[q + 9]!;
    pkt.quotedIpProto = proto;
    // A quoted non-first fragment has no transport header to read.
    if ((view.getUint16(q + 6) & 0x1fff) !== 0) return Layer.DONE;
    t = q + headerLength;
  } else if (version === 6) {
    if (end - q < 40) return fail(pkt, Problem.TRUNCATED_ICMP_QUOTE);
    pkt.quotedIpVersion = 6;
    pkt.quotedOffset = q;
    for (let i = 0; i < 4; i++) {
      pkt.quotedSrc[i] = view.getUint32(q + 8 + 4 * i);
      pkt.quotedDst[i] = view.getUint32(q + 24 + 4 * i);
    }
    proto = buf[q + 6]!;
    t = q + 40;
    while (isIpv6Extension(proto)) {
      if (end - t < 8) return fail(pkt, Problem.TRUNCATED_ICMP_QUOTE);
      const length = ipv6ExtensionLength(buf, t, proto);
      if (proto === IpProto.IPV6_FRAGMENT && (view.getUint16(t + 2) & 0xfff8) !== 0) {
        pkt.quotedIpProto = buf[t]!;
        return Layer.DONE;
      }
      proto = buf[t]!;
      t += length;
    }
    pkt.quotedIpProto = proto;
  } else {
    return fail(pkt, Problem.INVALID_IP_VERSION);
  }
  if (proto !== IpProto.TCP && proto !== IpProto.UDP) return Layer.DONE;
  if (end - t < 4) return fail(pkt, Problem.TRUNCATED_ICMP_QUOTE);
  pkt.quotedSrcPort = view.getUint16(t);
  pkt.quotedDstPort = view.getUint16(t + 2);
  // A snap length of 66 to 69 bytes (tcpdump -s 68) keeps the quoted ports and cuts the sequence number: the ports still tie the error to a flow.
  const seqCut = end - t < 8;
  if (proto === IpProto.TCP) {
    if (!seqCut) pkt.quotedSeq = view.getUint32(t + 4);
    pkt.quotedSeqCut = seqCut;
    pkt.icmpQuotesTcp = true;
  }
  return seqCut ? fail(pkt, Problem.TRUNCATED_ICMP_QUOTE) : Layer.DONE;
}

function decodeIcmp(buf: Buffer, off: number, end: number, pkt: DecodedPacket, isError: boolean): LayerId {
  if (end - off < 4) return fail(pkt, Problem.TRUNCATED_ICMP);
  pkt.transport = Transport.ICMP;
  pkt.icmpType = buf[off]!;
  pkt.icmpCode = buf[off + 1]!;
  if (!isError) return Layer.DONE;
  if (end - off < HEADER) return fail(pkt, Problem.TRUNCATED_ICMP);
  pkt.cursor = off + HEADER;
  return decodeQuote(buf, off + HEADER, end, pkt);
}

/** Decodes an ICMPv4 message; for an error, also the IP + TCP/UDP header it quotes. */
export function decodeIcmpv4(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const type = end - off >= 1 ? buf[off]! : -1;
  return decodeIcmp(buf, off, end, pkt, isIcmpv4Error(type));
}

/** Decodes an ICMPv6 message; for an error, also the IPv6 (+ extensions) + TCP/UDP header it quotes. */
export function decodeIcmpv6(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const type = end - off >= 1 ? buf[off]! : -1;
  return decodeIcmp(buf, off, end, pkt, isIcmpv6Error(type));
}
