import { Layer, type LayerId } from './layer';
import { Transport, type DecodedPacket } from './packet';
import { Problem, fail } from './problems';

const MIN_HEADER = 20;

/**
 * Decodes a TCP header (RFC 9293 3.1). The options stay in the buffer
 * (pkt.tcpOptionsOffset/Length; parse them with parseTcpOptions when needed). A data
 * offset below 5 words, or larger than the IP payload, is invalid; a header cut by
 * the capture is truncated.
 */
export function decodeTcp(_buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  if (end - off < MIN_HEADER) return fail(pkt, Problem.TRUNCATED_TCP);
  pkt.transport = Transport.TCP;
  // 32-bit rows of the header (RFC 9293 3.1), one read each.
  const ports = view.getUint32(off);
  const offsetFlagsWindow = view.getUint32(off + 12); // data offset, flags, window
  pkt.srcPort = ports >>> 16;
  pkt.dstPort = ports & 0xffff;
  pkt.seq = view.getUint32(off + 4);
  pkt.ack = view.getUint32(off + 8);
  pkt.tcpFlags = (offsetFlagsWindow >>> 16) & 0xff;
  pkt.window = offsetFlagsWindow & 0xffff;

  const headerLength = (offsetFlagsWindow >>> 28) * 4;
  if (headerLength < MIN_HEADER || headerLength > pkt.ipPayloadLength) {
    return fail(pkt, Problem.BAD_TCP_DATA_OFFSET);
  }
  if (end - off < headerLength) return fail(pkt, Problem.TRUNCATED_TCP);
  pkt.tcpOptionsOffset = off + MIN_HEADER;
  pkt.tcpOptionsLength = headerLength - MIN_HEADER;
  pkt.payloadLength = pkt.ipPayloadLength - headerLength;
  pkt.cursor = off + headerLength;
  return Layer.DONE;
}
