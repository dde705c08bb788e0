import { InterfaceRegistry } from '../capture/interface-registry';
import * as util from 'node:util';
import type { PcapReader, PcapScanFormat } from '../capture/pcap-reader';
import type { CaptureReader, CaptureSource, PacketRecord } from '../capture/record';
import { ErrorCode, SynscopeError } from '../errors';
import { decodeFrame } from '../decode/dispatch';
import { LinkType } from '../decode/link-types';
import { DecodedPacket, TcpFlag, Transport } from '../decode/packet';
import type { NativeBatch, NativeFlowTracker } from '../flow/native-tracker';
import { VxlanLegs } from '../flow/vxlan-legs';
import { DuplicateHandshakes } from './duplicate-handshakes';
import type { PacketEvidence } from './packet-evidence';
import type { TrackStage } from './track';

/** SLL packet type of a packet the capturing host sent. */
const SLL_OUTGOING = 4;

/** A cooked v2 header's length: it carries the interface index the record was captured on. */
const SLL2_HEADER = 20;

/**
 * Stage 2: decode each record into one reused DecodedPacket, give it an interface id, and
 * hand it on: TCP (and ICMP errors quoting TCP) to the tracker, handshake and ARP packets
 * to the packet evidence. Counts what it saw: packets per reader, decode problems, link
 * types, SYNs and SYN-ACKs, the capture's first and last time.
 *
 * With the native tracker, records are handed to it undecoded, in batches; C keeps the frame
 * evidence of every frame (native/src/engine/frame-evidence.c), and after each batch only the
 * frames it says something else needs (ARP, decode problems, frames the host sent, VXLAN
 * handshakes, IPv6 handshakes with a source MAC) are decoded here; the TCP counts of the
 * rest come from it.
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
  synsSeen = 0;
  /** SYNs and SYN-ACKs whose TCP header the snap length cut (their options, timestamps included, unread). */
  handshakeOptionsCut = 0;
  synAcksSeen = 0;
  readonly packetsPerReader: number[];
  readonly linkTypesSeen: Set<number>[];
  private readonly lastLinkType: number[];
  /** Capture time of the first and last packet, for the context check. */
  firstAt = Infinity;
  lastAt = -Infinity;
  /** TCP packets; with the native tracker, those decoded here until its own counts join them at the end (takeNativeEvidence). */
  tcpPackets = 0;
  /** TCP packets with RST. */
  rstsSeen = 0;
  /** TCP packets with neither SYN nor RST (ACKs, data, FINs): none in a capture that kept only handshakes. */
  tcpWithoutSynOrRst = 0;
  /** Per reader, the native tracker's flush count at its read window's last move. */
  private readonly movedAtFlush: number[];

  constructor(
    readers: readonly CaptureSource[],
    private readonly track: TrackStage,
    private readonly evidence: PacketEvidence,
  ) {
    this.interfaces = new InterfaceRegistry(readers);
    this.linkTypesSeen = readers.map(() => new Set<number>());
    this.lastLinkType = readers.map(() => -1);
    this.packetsPerReader = readers.map(() => 0);
    this.movedAtFlush = readers.map(() => -Infinity);
    const native = track.native;
    if (native !== null) {
      native.afterBatch = (batch) => this.decodeWanted(batch);
      // The native tracker is used only with readers that say when they reuse their memory (run.ts).
      readers.forEach((r, i) => (r as CaptureReader).onBeforeBufferReuse!(() => this.beforeBufferReuse(native, i)));
    }
  }

  packet(rec: PacketRecord, readerIndex: number): void {
    this.packets++;
    this.packetsPerReader[readerIndex]!++;
    const time = rec.tsSec + rec.tsNsec * 1e-9;
    if (time < this.firstAt) this.firstAt = time;
    if (time > this.lastAt) this.lastAt = time;
    const native = this.track.native;
    if (native === null) {
      const pkt = this.pkt;
      decodeFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, pkt);
      this.handOn(rec.data, time, this.interfaceId(readerIndex, rec.interfaceIndex, rec.linkType, pkt.sllIfIndex), true);
      return;
    }
    const data = rec.data;
    // Cooked v2 records name their interface by index: read it without decoding the frame.
    const ifindex = rec.linkType === LinkType.LINUX_SLL2 && rec.caplen >= SLL2_HEADER ? data.readUInt32BE(rec.offset + 4) : -1;
    const iface = this.interfaceId(readerIndex, rec.interfaceIndex, rec.linkType, ifindex);
    native.addFrame(rec.linkType, data, rec.offset, rec.offset + rec.caplen, time, iface);
  }

  /**
   * Stages 1 and 2 in C for a single classic pcap file (NativeFlowTracker.scanPcap): what
   * packet() would do for each record, with the counts the scan keeps; afterwards the
   * reader's counts are as if it had been read to its end. Throws what the reader would.
   */
  scanFile(reader: PcapReader, format: PcapScanFormat, onProgress: (packets: number, bytesRead: number) => void): void {
    const end = this.track.native!.scanPcap(format, (ifindex) => this.interfaceId(0, 0, format.linkType, ifindex), (packets, bytesRead) => {
      reader.stats.bytesRead = bytesRead;
      onProgress(packets, bytesRead);
    });
    const { error, firstAt, lastAt, ...stats } = end;
    if (error !== null && 'caplen' in error) {
      throw new SynscopeError(ErrorCode.BAD_RECORD_LENGTH, `record caplen ${error.caplen} exceeds the maximum of ${format.maxCaplen}`, { file: reader.source, offset: error.offset, record: error.record });
    }
    // Node names an errno the way its own read errors do (EIO); it takes it negative.
    if (error !== null) throw new SynscopeError(ErrorCode.READ_FAILED, `read failed: ${util.getSystemErrorName(-error.errno)}`, { file: reader.source });
    reader.scanned(stats);
    this.packets += stats.packets;
    this.packetsPerReader[0]! += stats.packets;
    if (firstAt < this.firstAt) this.firstAt = firstAt;
    if (lastAt > this.lastAt) this.lastAt = lastAt;
  }

  /**
   * Reader i's window is about to move over the buffer it read from before its last move: the
   * frames in it were added before that move, so they are handed out two flushes after it.
   * Sooner (large frames, few per window), everything is handed out now.
   */
  private beforeBufferReuse(native: NativeFlowTracker, i: number): void {
    if (native.flushes < this.movedAtFlush[i]! + 2) native.sync();
    this.movedAtFlush[i] = native.flushes;
  }

  /** After a native batch: the frames it says the other stages need, decoded and handed on (not to the tracker again). */
  private decodeWanted(batch: NativeBatch): void {
    const { needs, buffers, bufferOf, offsets, lengths, linkTypes, times, ifaces } = batch;
    for (let k = 0; k < batch.count; k++) {
      if (needs[k] === 0) continue;
      const data = buffers[bufferOf[k]!]!;
      decodeFrame(linkTypes[k]!, data, offsets[k]!, offsets[k]! + lengths[k]!, this.pkt);
      this.handOn(data, times[k]!, ifaces[k]!, false);
    }
  }

  /**
   * The decoded packet to the tracker (when `track`: the JS tracker's frame) and to the other
   * stages. A native tracker's frame is here for what C does not keep (frame-evidence.c): its
   * counts, SYN-ACK duplicates, link MACs and IPv4 source MACs came from C already.
   */
  private handOn(data: Buffer, time: number, iface: number, track: boolean): void {
    const pkt = this.pkt;
    // Linux cooked headers carry the sender's MAC where Ethernet would.
    const macOffset = pkt.ethOffset >= 0 ? pkt.ethOffset + 6 : pkt.sllMacOffset;
    if (pkt.sllPacketType === SLL_OUTGOING && pkt.sllIfIndex >= 0 && macOffset >= 0) this.interfaces.noteOutgoing(pkt.sllIfIndex, data.readUIntBE(macOffset, 6));
    if (pkt.problem !== 0) this.problems[pkt.problem]!++;
    const transport = pkt.transport;
    if (transport === Transport.TCP) {
      this.tcpPackets++;
      if (track) this.track.js!.add(pkt, data, time, iface);
      if ((pkt.tcpFlags & TcpFlag.RST) !== 0) this.rstsSeen++;
      else if ((pkt.tcpFlags & TcpFlag.SYN) === 0) this.tcpWithoutSynOrRst++;
      if ((pkt.tcpFlags & TcpFlag.SYN) !== 0) {
        if (track) this.handshakePacket(data, time, iface, macOffset);
        else if (pkt.ipVersion === 6 && macOffset >= 0) this.evidence.sourceMacV6(pkt.src, iface, data.readUIntBE(macOffset, 6));
        if (pkt.vxlanVni >= 0) this.vxlanLegs.add(pkt, time, iface);
      }
    } else if (transport === Transport.ICMP) {
      if (track && pkt.icmpQuotesTcp) this.track.js!.add(pkt, data, time, iface);
    } else if (transport === Transport.ARP) {
      this.evidence.arpPacket(pkt, time, iface);
      if (track) this.evidence.arpMacs(pkt, data, iface);
    }
  }

  private handshakePacket(data: Buffer, time: number, iface: number, macOffset: number): void {
    const pkt = this.pkt;
    const synAck = (pkt.tcpFlags & TcpFlag.ACK) !== 0;
    if (synAck) this.synAcksSeen++;
    else this.synsSeen++;
    if (pkt.tcpOptionsCut) this.handshakeOptionsCut++;
    this.duplicates.see(pkt.seq, pkt.ipId, synAck ? pkt.dstPort : pkt.srcPort, synAck, iface, time);
    this.evidence.handshakePacket(pkt, data, iface, macOffset);
  }

  /** After the native tracker's finish: the counts C kept of every frame (frame-evidence.c) join those of the frames decoded here, its MAC tables replace the evidence's. */
  takeNativeEvidence(): void {
    const native = this.track.native;
    if (native === null) return;
    const ev = native.frameEvidence();
    this.synsSeen += ev.counts[0]!;
    this.synAcksSeen += ev.counts[1]!;
    this.handshakeOptionsCut += ev.counts[2]!;
    this.duplicates.count += ev.counts[3]!;
    this.tcpPackets += ev.counts[4]!;
    this.rstsSeen += ev.counts[5]!;
    this.tcpWithoutSynOrRst += ev.counts[6]!;
    this.evidence.adoptNative(ev);
  }

  private interfaceId(readerIndex: number, local: number, linkType: number, ifindex: number): number {
    if (linkType !== this.lastLinkType[readerIndex]) {
      this.linkTypesSeen[readerIndex]!.add(linkType);
      this.lastLinkType[readerIndex] = linkType;
    }
    return this.interfaces.id(readerIndex, local, ifindex);
  }
}
