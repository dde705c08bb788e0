import { Layer, type LayerId } from './layer';
import { Transport, type DecodedPacket } from './packet';
import { Problem, fail } from './problems';

const MIN_HEADER = 20;
/** Ports, sequence and acknowledgment numbers, data offset and flags: what a handshake needs. */
const THROUGH_FLAGS = 14;
const THROUGH_WINDOW = 16;

/**
 * Decodes a TCP header (RFC 9293 3.1). The options stay in the buffer
 * (pkt.tcpOptionsOffset/Length; parse them with parseTcpOptions when needed). A data
 * offset below 5 words, or larger than the IP payload, is invalid; a header cut by
 * the capture is truncated. A header cut after its flags (a short snap length: tcpdump
 * -s 68 on IPv6, -s 54 on `-i any`) is still decoded as far as it goes, as when only its
 * options are cut: counted as truncated, tracked without options (and without its window
 * when that is cut too: -1).
 */
export function decodeTcp(_buf: Buffer, off: number, end: number, pkt: DecodedPacket): LayerId {
  const view = pkt.view;
  const captured = end - off;
  if (captured < THROUGH_FLAGS) return fail(pkt, Problem.TRUNCATED_TCP);
  pkt.transport = Transport.TCP;
  // 32-bit rows of the header (RFC 9293 3.1), one read each.
  const ports = view.getUint32(off);
  const offsetFlagsWindow = captured >= THROUGH_WINDOW ? view.getUint32(off + 12) : (view.getUint16(off + 12) << 16) >>> 0; // data offset, flags, window
  pkt.srcPort = ports >>> 16;
  pkt.dstPort = ports & 0xffff;
  pkt.seq = view.getUint32(off + 4);
  pkt.ack = view.getUint32(off + 8);
  pkt.tcpFlags = (offsetFlagsWindow >>> 16) & 0xff;
  pkt.window = captured >= THROUGH_WINDOW ? offsetFlagsWindow & 0xffff : -1;

  const headerLength = (offsetFlagsWindow >>> 28) * 4;
  if (headerLength < MIN_HEADER || headerLength > pkt.ipPayloadLength) {
    return fail(pkt, Problem.BAD_TCP_DATA_OFFSET);
  }
  if (captured < headerLength) {
    pkt.tcpOptionsCut = headerLength > MIN_HEADER;
    pkt.payloadLength = pkt.ipPayloadLength - headerLength;
    return fail(pkt, Problem.TRUNCATED_TCP);
  }
  pkt.tcpOptionsOffset = off + MIN_HEADER;
  pkt.tcpOptionsLength = headerLength - MIN_HEADER;
  pkt.payloadLength = pkt.ipPayloadLength - headerLength;
  pkt.cursor = off + headerLength;
  return Layer.DONE;
}
