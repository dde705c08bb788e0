import { Layer, type LayerId } from './layer';
import { Transport, type DecodedPacket } from './packet';
import { Problem, fail } from './problems';

const HEADER = 8;
/** IANA port for VXLAN (RFC 7348 section 5). */
export const VXLAN_PORT = 4789;

/**
 * Decodes a UDP header. Traffic to port 4789 goes on to the VXLAN decoder (Docker
 * swarm overlay networks use it). A UDP length of 0 is allowed: RFC 2675 jumbograms.
 */
export function decodeUdp(buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < HEADER) return fail(pkt, Problem.TRUNCATED_UDP);
  pkt.transport = Transport.UDP;
  pkt.srcPort = view.getUint16(off);
  pkt.dstPort = view.getUint16(off + 2);
  const length = view.getUint16(off + 4);
  if ((length !== 0 && length < HEADER) || pkt.ipPayloadLength < HEADER) {
    return fail(pkt, Problem.BAD_UDP_LENGTH);
  }
  pkt.payloadLength = pkt.ipPayloadLength - HEADER;
  pkt.cursor = off + HEADER;
  return pkt.dstPort === VXLAN_PORT ? Layer.VXLAN : Layer.DONE;
}
