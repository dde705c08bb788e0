import { InterfaceRegistry } from '../capture/interface-registry';
import type { CaptureSource, PacketRecord } from '../capture/record';
import { decodeFrame } from '../decode/dispatch';
import { DecodedPacket, TcpFlag, Transport } from '../decode/packet';
import { VxlanLegs } from '../flow/vxlan-legs';
import { DuplicateHandshakes } from './duplicate-handshakes';
import type { PacketEvidence } from './packet-evidence';
import type { TrackStage } from './track';

/** SLL packet type of a packet the capturing host sent. */
const SLL_OUTGOING = 4;

/**
 * Stage 2: decode each record into one reused DecodedPacket, give it an interface id, and
 * hand it on: TCP (and ICMP errors quoting TCP) to the tracker, handshake and ARP packets
 * to the packet evidence. Counts what it saw: packets per reader, decode problems, link
 * types, SYNs and SYN-ACKs, the capture's first and last time.
 */
export class DecodeStage {
  private readonly pkt = new DecodedPacket();
  readonly interfaces: InterfaceRegistry;
  readonly problems = new Float64Array(256);
  /** Handshake packets seen twice on one interface: several hops merged into one link. */
  readonly duplicates = new DuplicateHandshakes();
  /** Handshakes carried by VXLAN: the overlay legs of their paths. */
  readonly vxlanLegs = new VxlanLegs();
  packets = 0;
  tcpPackets = 0;
  synsSeen = 0;
  /** TCP packets with neither SYN nor RST (ACKs, data, FINs): none in a capture that kept only handshakes. */
  tcpWithoutSynOrRst = 0;
  /** TCP packets with RST. */
  rstsSeen = 0;
  /** SYNs and SYN-ACKs whose TCP header the snap length cut (their options, timestamps included, unread). */
  handshakeOptionsCut = 0;
  synAcksSeen = 0;
  readonly packetsPerReader: number[];
  readonly linkTypesSeen: Set<number>[];
  private readonly lastLinkType: number[];
  /** Capture time of the first and last packet, for the context check. */
  firstAt = Infinity;
  lastAt = -Infinity;

  constructor(
    readers: readonly CaptureSource[],
    private readonly track: TrackStage,
    private readonly evidence: PacketEvidence,
  ) {
    this.interfaces = new InterfaceRegistry(readers);
    this.linkTypesSeen = readers.map(() => new Set<number>());
    this.lastLinkType = readers.map(() => -1);
    this.packetsPerReader = readers.map(() => 0);
  }

  packet(rec: PacketRecord, readerIndex: number): void {
    const pkt = this.pkt;
    this.packets++;
    this.packetsPerReader[readerIndex]!++;
    decodeFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, pkt);
    const iface = this.interfaceId(readerIndex, rec.interfaceIndex, rec.linkType, pkt.sllIfIndex);
    const time = rec.tsSec + rec.tsNsec * 1e-9;
    if (time < this.firstAt) this.firstAt = time;
    if (time > this.lastAt) this.lastAt = time;
    // Linux cooked headers carry the sender's MAC where Ethernet would.
    const macOffset = pkt.ethOffset >= 0 ? pkt.ethOffset + 6 : pkt.sllMacOffset;
    if (pkt.sllPacketType === SLL_OUTGOING && pkt.sllIfIndex >= 0 && macOffset >= 0) this.interfaces.noteOutgoing(pkt.sllIfIndex, rec.data.readUIntBE(macOffset, 6));
    if (pkt.problem !== 0) this.problems[pkt.problem]!++;
    const transport = pkt.transport;
    if (transport === Transport.TCP) {
      this.tcpPackets++;
      const js = this.track.js;
      if (js !== null) js.add(pkt, rec.data, time, iface);
      else this.track.native!.addFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, time, iface);
      if ((pkt.tcpFlags & TcpFlag.RST) !== 0) this.rstsSeen++;
      else if ((pkt.tcpFlags & TcpFlag.SYN) === 0) this.tcpWithoutSynOrRst++;
      if ((pkt.tcpFlags & TcpFlag.SYN) !== 0) {
        const synAck = (pkt.tcpFlags & TcpFlag.ACK) !== 0;
        if (synAck) this.synAcksSeen++;
        else this.synsSeen++;
        if (pkt.tcpOptionsCut) this.handshakeOptionsCut++;
        this.duplicates.see(pkt.seq, pkt.ipId, synAck ? pkt.dstPort : pkt.srcPort, synAck, iface, time);
        if (pkt.vxlanVni >= 0) this.vxlanLegs.add(pkt, time, iface);
        this.evidence.handshakePacket(pkt, rec.data, iface, macOffset);
      }
    } else if (transport === Transport.ICMP) {
      if (pkt.icmpQuotesTcp) {
        const js = this.track.js;
        if (js !== null) js.add(pkt, rec.data, time, iface);
        else this.track.native!.addFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, time, iface);
      }
    } else if (transport === Transport.ARP) {
      this.evidence.arpPacket(pkt, rec.data, time, iface);
    }
  }

  private interfaceId(readerIndex: number, local: number, linkType: number, ifindex: number): number {
    if (linkType !== this.lastLinkType[readerIndex]) {
      this.linkTypesSeen[readerIndex]!.add(linkType);
      this.lastLinkType[readerIndex] = linkType;
    }
    return this.interfaces.id(readerIndex, local, ifindex);
  }
}
