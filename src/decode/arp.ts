import { Layer, type LayerId } from './layer';
import { Transport, type DecodedPacket } from './packet';
import { Problem, fail } from './problems';

/** Fixed ARP header: hardware type, protocol type, address lengths, operation. */
const FIXED = 8;
/** Ethernet/IPv4 ARP: the fixed part plus 6+4+6+4 address bytes (RFC 826). */
const ETHERNET_IPV4 = 28;

/**
 * Decodes an Ethernet/IPv4 ARP message. Other hardware/protocol pairs end with
 * Transport.NONE: they cannot be about the IPv4 clients we explain.
 */
export function decodeArp(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < FIXED) return fail(pkt, Problem.TRUNCATED_ARP);
  const ethernetIpv4 =
    view.getUint16(off) === 1 && view.getUint16(off + 2) === 0x0800 && buf[off + 4] === 6 && buf[off + 5] === 4;
  if (!ethernetIpv4) return Layer.DONE;
  if (end - off < ETHERNET_IPV4) return fail(pkt, Problem.TRUNCATED_ARP);
  pkt.transport = Transport.ARP;
  pkt.arpOp = view.getUint16(off + 6);
  pkt.arpSenderMacOffset = off + 8;
  pkt.arpSenderIp = view.getUint32(off + 14);
  pkt.arpTargetIp = view.getUint32(off + 24);
  pkt.cursor = off + ETHERNET_IPV4;
  return Layer.DONE;
}
