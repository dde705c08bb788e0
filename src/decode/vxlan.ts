import { Layer, type LayerId } from './layer';
import { Transport, type DecodedPacket } from './packet';
import { Problem, fail } from './problems';

const HEADER = 8;
/** RFC 7348 section 5: the I flag says the VNI is valid. */
const I_FLAG = 0x08;

/**
 * Decodes a VXLAN header and continues with the inner Ethernet frame, whose layers
 * then overwrite the outer ones: the packet ends up describing the innermost
 * packet, with pkt.vxlanVni telling it was tunnelled (and pkt.vxlanOuterSrc/Dst between which nodes). Without the I flag the
 * datagram is not VXLAN and stays a plain UDP packet.
 */
export function decodeVxlan(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  if (end - off < HEADER) return fail(pkt, Problem.TRUNCATED_VXLAN);
  if ((buf[off]! & I_FLAG) === 0) return Layer.DONE;
  pkt.vxlanVni = (buf[off + 4]! << 16) | (buf[off + 5]! << 8) | buf[off + 6]!;
  pkt.vxlanOuterIpVersion = pkt.ipVersion;
  pkt.vxlanOuterEthOffset = pkt.ethOffset;
  pkt.vxlanOuterSrc.set(pkt.src);
  pkt.vxlanOuterDst.set(pkt.dst);
  // The outer UDP is the tunnel, not this packet's transport: forget it so a
  // truncated inner frame does not pass for a UDP datagram.
  pkt.transport = Transport.NONE;
  pkt.srcPort = 0;
  pkt.dstPort = 0;
  pkt.payloadLength = 0;
  pkt.ipVersion = 0;
  pkt.ipOffset = -1;
  pkt.ipId = -1;
  pkt.ttl = 0;
  pkt.ipProto = 0;
  pkt.ipPayloadLength = 0;
  pkt.etherType = 0;
  pkt.cursor = off + HEADER;
  return Layer.ETHERNET;
}
