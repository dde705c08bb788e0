import type { LayerId } from './layer';

/** What the packet turned out to be at its innermost decoded layer. */
export const Transport = {
  NONE: 0,
  TCP: 1,
  UDP: 2,
  ICMP: 3,
  ARP: 4,
  OTHER_IP: 5,
} as const;
export type TransportKind = (typeof Transport)[keyof typeof Transport];

/**
 * The decoders' output, one reused, mutable object per pipeline (no allocation per
 * packet on the hot path). Every field is reset by `reset()`; a decoder writes only
 * the fields of its own layer. Addresses are kept as 4 x uint32 words in network
 * order; an IPv4 address is stored IPv4-mapped (::ffff:a.b.c.d), word 3 holding it.
 * Buffers are not copied: offsets point into the record's `data`.
 */
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

export class DecodedPacket {
  /**
   * DataView over the buffer being decoded, for multi-byte big-endian reads (one
   * bounds check and load per field instead of one per byte). decodeFrame replaces
   * it only when it is handed a different Buffer object, so a reader that reuses its
   * read buffer causes no allocation.
   */
  view: DataView = EMPTY_VIEW;
  /** The Buffer `view` was made for. */
  viewSource: Uint8Array | null = null;
  /** The previous buffer's view, kept so a pipeline alternating between two readers allocates nothing. */
  otherView: DataView = EMPTY_VIEW;
  otherViewSource: Uint8Array | null = null;
  /** Where the next decoder starts reading (set by each decoder). */
  cursor = 0;
  /** Last captured byte + 1 of the current layer (decoders trim padding by lowering it). */
  end = 0;
  /** 0 when fine; otherwise a ProblemCode (see problems.ts) saying why decoding stopped. */
  problem = 0;
  /** The layer that stopped with a problem (or the last one decoded). */
  lastLayer: LayerId = 0;

  /** Offset of the (innermost) Ethernet header, or -1. MACs are read from there. */
  ethOffset = -1;
  /** Linux cooked (SLL/SLL2) packet type: 0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing; -1 otherwise. */
  sllPacketType = -1;
  /** SLL2 interface index (the capturing host's ifindex), or -1. */
  sllIfIndex = -1;
  /**
   * Offset of the 6-byte link-layer source address in a Linux cooked header of an
   * Ethernet device (ARPHRD_ETHER), or -1. Linux fills it from the frame's source MAC in
   * both directions, so it is the sender's MAC, as in an Ethernet header.
   */
  sllMacOffset = -1;
  /** Number of 802.1Q/802.1ad tags seen; the first four ids are kept in vlanIds. */
  vlanCount = 0;
  readonly vlanIds = new Uint16Array(4);
  /** VXLAN network identifier when the packet was decapsulated from VXLAN, else -1. */
  vxlanVni = -1;
  /** The tunnel's (outer) IP version and addresses when vxlanVni is set: the nodes the overlay carried the packet between. */
  vxlanOuterIpVersion = 0;
  /** Offset of the tunnel's (outer) Ethernet header when vxlanVni is set, or -1: the frame's MACs on the wire. */
  vxlanOuterEthOffset = -1;
  readonly vxlanOuterSrc = new Uint32Array(4);
  readonly vxlanOuterDst = new Uint32Array(4);
  /** Ethernet type / protocol of the layer-3 payload (0x0800, 0x86dd, 0x0806...). */
  etherType = 0;

  /** 0 (no IP layer), 4 or 6. */
  ipVersion = 0;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** Offset of the (innermost) IP header. */
  ipOffset = -1;
  /** IPv4 identification; for IPv6 the fragment header id when present, else -1. */
  ipId = -1;
  /** IPv4 TTL / IPv6 hop limit. */
  ttl = 0;
  /** Final protocol number after IPv6 extension headers (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6). */
  ipProto = 0;
  /** Bytes of IP payload according to the IP header (wire size, not captured size). */
  ipPayloadLength = 0;
  /** True when the IPv4/IPv6 header says this is a non-first fragment (then not decoded further). */
  fragment = false;

  transport: TransportKind = Transport.NONE;
  srcPort = 0;
  dstPort = 0;

  /** TCP sequence and acknowledgement numbers (uint32). */
  seq = 0;
  ack = 0;
  /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80). */
  tcpFlags = 0;
  /** The raw receive window; -1 when the capture cut the header before it. */
  window = 0;
  /** Offset and length of the TCP options bytes (parse them with parseTcpOptions when needed). */
  tcpOptionsOffset = 0;
  tcpOptionsLength = 0;
  /** The header has options and the capture cut them (timestamps and the rest unread). */
  tcpOptionsCut = false;
  /** TCP/UDP payload bytes according to the IP header (wire size). */
  payloadLength = 0;

  /** ICMP / ICMPv6 type and code. */
  icmpType = -1;
  icmpCode = -1;
  /** True when this ICMP error quotes an IP header plus the first 8 bytes of a TCP header. */
  icmpQuotesTcp = false;
  quotedIpVersion = 0;
  readonly quotedSrc = new Uint32Array(4);
  readonly quotedDst = new Uint32Array(4);
  /** Protocol of the quoted packet (after IPv6 extension headers), or 0. */
  quotedIpProto = 0;
  /** Quoted TCP/UDP ports (filled for UDP too; icmpQuotesTcp says TCP). */
  quotedSrcPort = 0;
  quotedDstPort = 0;
  quotedSeq = 0;
  /** The capture cut the quote after the ports: quotedSeq unknown (0). */
  quotedSeqCut = false;
  /** Offset of the quoted IP header inside the ICMP message, or -1. */
  quotedOffset = -1;

  /** ARP operation (1 request, 2 reply), or 0 when not ARP. */
  arpOp = 0;
  /** Offset of the ARP sender hardware address, or -1. */
  arpSenderMacOffset = -1;
  /** ARP sender / target protocol (IPv4) addresses as uint32. */
  arpSenderIp = 0;
  arpTargetIp = 0;

  private resetIcmpArp(): void {
    this.icmpType = -1;
    this.icmpCode = -1;
    this.icmpQuotesTcp = false;
    this.quotedIpVersion = 0;
    this.quotedIpProto = 0;
    this.quotedSrcPort = 0;
    this.quotedDstPort = 0;
    this.quotedSeq = 0;
    this.quotedSeqCut = false;
    this.quotedOffset = -1;
    this.arpOp = 0;
    this.arpSenderMacOffset = -1;
    this.arpSenderIp = 0;
    this.arpTargetIp = 0;
  }

  /** Clears every field for the next packet; `[start, end)` is the frame's captured bytes. */
  reset(start: number, end: number): void {
    this.cursor = start;
    this.end = end;
    this.problem = 0;
    this.lastLayer = 0;
    this.ethOffset = -1;
    this.sllPacketType = -1;
    this.sllIfIndex = -1;
    this.sllMacOffset = -1;
    this.vlanCount = 0;
    this.vxlanVni = -1;
    this.etherType = 0;
    this.ipVersion = 0;
    this.ipOffset = -1;
    this.ipId = -1;
    this.ttl = 0;
    this.ipProto = 0;
    this.ipPayloadLength = 0;
    this.fragment = false;
    this.transport = Transport.NONE;
    this.srcPort = 0;
    this.dstPort = 0;
    this.seq = 0;
    this.ack = 0;
    this.tcpFlags = 0;
    this.window = 0;
    this.tcpOptionsOffset = 0;
    this.tcpOptionsLength = 0;
    this.tcpOptionsCut = false;
    this.payloadLength = 0;
    // ICMP and ARP fields are set by few packets: clear them only when they were used.
    if (this.icmpType !== -1 || this.arpSenderMacOffset !== -1) this.resetIcmpArp();
  }
}

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;
