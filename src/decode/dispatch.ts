import { decodeArp } from './arp';
import { decodeEthernet } from './ethernet';
import { decodeIcmpv4, decodeIcmpv6 } from './icmp';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import { Layer, LAYER_COUNT, type LayerId } from './layer';
import { firstLayer } from './link-types';
import { decodeMpls } from './mpls';
import { decodeLoop, decodeNullLoopback } from './null-loopback';
import type { DecodedPacket } from './packet';
import { decodePppoe } from './pppoe';
import { Problem } from './problems';
import { decodeRawIp } from './raw-ip';
import { decodeSll } from './sll';
import { decodeSll2 } from './sll2';
import { decodeTcp } from './tcp';
import { decodeUdp } from './udp';
import { decodeVlan } from './vlan';
import { decodeVxlan } from './vxlan';

/**
 * A layer decoder: reads its header at `off` (= pkt.cursor) within `[off, end)`
 * (end = pkt.end), writes its own fields, moves pkt.cursor past its header and
 * returns the next layer, or sets pkt.problem and returns DONE. Never throws: it
 * checks the length before every read. Multi-byte fields are read through
 * `pkt.view`, which decodeFrame points at `buf`: call decoders through decodeFrame.
 */
export type LayerDecoder = (buf: Buffer, off: number, end: number, pkt: DecodedPacket) => LayerId;

const done: LayerDecoder = () => Layer.DONE;

/** Decoders indexed by layer id (gopacket's LayerType -> Decoder table). */
const DECODERS: readonly LayerDecoder[] = (() => {
  const table = Array.from({ length: LAYER_COUNT }, () => done);
  table[Layer.ETHERNET] = decodeEthernet;
  table[Layer.VLAN] = decodeVlan;
  table[Layer.SLL] = decodeSll;
  table[Layer.SLL2] = decodeSll2;
  table[Layer.NULL_LOOPBACK] = decodeNullLoopback;
  table[Layer.LOOP] = decodeLoop;
  table[Layer.RAW_IP] = decodeRawIp;
  table[Layer.IPV4] = decodeIpv4;
  table[Layer.IPV6] = decodeIpv6;
  table[Layer.TCP] = decodeTcp;
  table[Layer.UDP] = decodeUdp;
  table[Layer.ICMPV4] = decodeIcmpv4;
  table[Layer.ICMPV6] = decodeIcmpv6;
  table[Layer.ARP] = decodeArp;
  table[Layer.VXLAN] = decodeVxlan;
  table[Layer.MPLS] = decodeMpls;
  table[Layer.PPPOE] = decodePppoe;
  return table;
})();

/**
 * Every layer after the first consumes header bytes, so the walk ends anyway; this
 * bound only stops a hostile packet (thousands of VLAN tags or nested VXLAN) early.
 */
const MAX_LAYERS = 32;

/** Points pkt.view at `buf`, reusing the previous buffer's view when it is that one. */
function useViewOf(buf: Buffer, pkt: DecodedPacket): void {
  const view = pkt.otherViewSource === buf ? pkt.otherView : new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  pkt.otherView = pkt.view;
  pkt.otherViewSource = pkt.viewSource;
  pkt.view = view;
  pkt.viewSource = buf;
}

/**
 * Decodes the frame `buf[start, end)` of the given LINKTYPE into `pkt` (reset first).
 * Walks the decoder table from the link type's first layer until a decoder returns
 * DONE. Never throws; allocates nothing except one DataView when handed a Buffer other
 * than the last two it saw. The outcome is in pkt.problem (0 = fine) and pkt.lastLayer
 * (the last layer entered).
 */
export function decodeFrame(linkType: number, buf: Buffer, start: number, end: number, pkt: DecodedPacket): void {
  if (end > buf.length) end = buf.length;
  if (start < 0) start = 0;
  if (end < start) end = start;
  pkt.reset(start, end);
  if (pkt.viewSource !== buf) useViewOf(buf, pkt);
  let layer: LayerId = firstLayer(linkType);
  if (layer === Layer.DONE) {
    pkt.problem = Problem.UNSUPPORTED_LINK_TYPE;
    return;
  }
  for (let depth = 0; layer !== Layer.DONE; depth++) {
    if (depth === MAX_LAYERS) {
      pkt.problem = Problem.TOO_MANY_LAYERS;
      return;
    }
    pkt.lastLayer = layer;
    layer = DECODERS[layer]!(buf, pkt.cursor, pkt.end, pkt);
  }
}
