import { parseIp, parseMac } from './address';
import { finishChecksum, internetChecksum, sumBytes } from './checksum';

/**
 * The project's own packet builder: Ethernet (optionally 802.1Q / 802.1ad tagged)
 * frames carrying IPv4 or IPv6 with TCP, ICMP errors that quote a TCP packet, and
 * ARP requests, all with correct checksums. Used for synthetic scenarios that
 * today's kernels cannot produce (tcp_tw_recycle was removed in Linux 4.12) and by
 * the benchmark generator, which needs millions of frames per second; that is why
 * the core is {@link TcpFrameWriter}, a reusable object writing into a caller's
 * buffer, and {@link buildTcpFrame} is a convenience wrapper around it.
 */

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_ARP = 0x0806;
const TPID_8021Q = 0x8100;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_ICMPV6 = 58;

/** Default MACs: locally administered, so they never look like a real vendor's. */
const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
const DEFAULT_DST_MAC = '02:00:00:00:00:02';

/** TCP options a SYN (or any segment) may carry, in the layout Linux writes them. */
export interface TcpOptionsSpec {
  /** Maximum segment size (kind 2). */
  readonly mss?: number;
  /** Window scale shift (kind 3). */
  readonly windowScale?: number;
  /** SACK permitted (kind 4). */
  readonly sackPermitted?: boolean;
  /** Timestamp value (kind 8); the option is written when tsVal is given. */
  readonly tsVal?: number;
  /** Timestamp echo reply; 0 when omitted (as in a SYN). */
  readonly tsEcr?: number;
}

/**
 * VLAN tags, outermost first. A number is a VLAN id tagged with 802.1Q (0x8100);
 * an object may set the TPID (0x88a8 for an 802.1ad service tag) and priority.
 */
export type VlanSpec = number | { readonly id: number; readonly tpid?: number; readonly pcp?: number };

export interface EthernetSpec {
  /** Source MAC as text; default 02:00:00:00:00:01. */
  readonly srcMac?: string;
  /** Destination MAC as text; default 02:00:00:00:00:02. */
  readonly dstMac?: string;
  /** One VLAN tag, or stacked tags outermost first. */
  readonly vlan?: VlanSpec | readonly VlanSpec[];
}

export interface TcpFrameSpec extends EthernetSpec {
  /** Source address, IPv4 or IPv6 text; both addresses must be the same family. */
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** TCP flags byte (see TcpFlag in src/decode/packet.ts). */
  readonly flags: number;
  /** Window field as sent (already scaled down); default 64240, Linux's initial SYN window. */
  readonly window?: number;
  readonly options?: TcpOptionsSpec;
  /** Payload bytes (zeros unless `payload` is given). Default 0. */
  readonly payloadLength?: number;
  /** Payload content; when given, its length is the payload length. */
  readonly payload?: Uint8Array;
  /** IPv4 identification (ignored for IPv6). Default 0. */
  readonly ipId?: number;
  /** IPv4 TTL / IPv6 hop limit. Default 64. */
  readonly ttl?: number;
}

interface VlanTag {
  tpid: number;
  tci: number;
}

function normalizeVlans(vlan: EthernetSpec['vlan']): VlanTag[] {
  if (vlan === undefined) return [];
  const list: readonly VlanSpec[] = Array.isArray(vlan) ? vlan : [vlan as VlanSpec];
  return list.map((v) => {
    const id = typeof v === 'number' ? v : v.id;
    const tpid = typeof v === 'number' ? TPID_8021Q : (v.tpid ?? TPID_8021Q);
    const pcp = typeof v === 'number' ? 0 : (v.pcp ?? 0);
    if (!Number.isInteger(id) || id < 0 || id > 4095) throw new RangeError(`bad VLAN id ${id}`);
    return { tpid, tci: ((pcp & 7) << 13) | id };
  });
}

/** Writes the Ethernet header and tags at `off`; returns the offset of the layer-3 header. */
function writeEthernet(
  buf: Buffer, off: number, dstMac: Uint8Array, srcMac: Uint8Array, vlans: readonly VlanTag[], etherType: number,
): number {
  // Byte loops rather than TypedArray.set: for 6 bytes the call overhead dominates.
  for (let i = 0; i < 6; i++) {
    buf[off + i] = dstMac[i]!;
    buf[off + 6 + i] = srcMac[i]!;
  }
  let p = off + 12;
  for (let i = 0; i < vlans.length; i++) {
    put16(buf, p, vlans[i]!.tpid);
    put16(buf, p + 2, vlans[i]!.tci);
    p += 4;
  }
  put16(buf, p, etherType);
  return p + 2;
}

/** Big-endian stores without Buffer's per-call bounds checks; callers size the buffer. */
function put16(buf: Uint8Array, p: number, v: number): void {
  buf[p] = v >>> 8;
  buf[p + 1] = v;
}

function put32(buf: Uint8Array, p: number, v: number): void {
  buf[p] = v >>> 24;
  buf[p + 1] = v >>> 16;
  buf[p + 2] = v >>> 8;
  buf[p + 3] = v;
}

/** Sum of the TCP/UDP/ICMPv6 pseudo-header (RFC 793 3.1, RFC 8200 8.1). */
function pseudoHeaderSum(buf: Uint8Array, ipOff: number, ipVersion: 4 | 6, proto: number, length: number): number {
  // The addresses sit at fixed offsets inside the IP header just written.
  const acc = ipVersion === 4 ? sumBytes(buf, ipOff + 12, ipOff + 20, 0) : sumBytes(buf, ipOff + 8, ipOff + 40, 0);
  return acc + proto + (length >>> 16) + (length & 0xffff);
}

/** Writes an IPv4 header (no options, DF set as Linux does for TCP) with its checksum. */
function writeIpv4Header(
  buf: Buffer, off: number, totalLength: number, ipId: number, ttl: number, proto: number,
  src: Uint8Array, dst: Uint8Array, dontFragment: boolean,
): void {
  buf[off] = 0x45;
  buf[off + 1] = 0;
  put16(buf, off + 2, totalLength);
  put16(buf, off + 4, ipId);
  put16(buf, off + 6, dontFragment ? 0x4000 : 0);
  buf[off + 8] = ttl;
  buf[off + 9] = proto;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  buf[off + 12] = src[0]!; buf[off + 13] = src[1]!; buf[off + 14] = src[2]!; buf[off + 15] = src[3]!;
  buf[off + 16] = dst[0]!; buf[off + 17] = dst[1]!; buf[off + 18] = dst[2]!; buf[off + 19] = dst[3]!;
  put16(buf, off + 10, internetChecksum(buf, off, off + 20));
}

function writeIpv6Header(
  buf: Buffer, off: number, payloadLength: number, flowLabel: number, hopLimit: number, nextHeader: number,
  src: Uint8Array, dst: Uint8Array,
): void {
  put32(buf, off, 0x60000000 | (flowLabel & 0xfffff));
  put16(buf, off + 4, payloadLength);
  buf[off + 6] = nextHeader;
  buf[off + 7] = hopLimit;
  for (let i = 0; i < 16; i++) {
    buf[off + 8 + i] = src[i]!;
    buf[off + 24 + i] = dst[i]!;
  }
}

/**
 * A reusable TCP frame: set the public fields, then `write()` into any buffer.
 * Nothing is allocated per frame, and the checksums are recomputed in full each
 * time (cheap at header sizes; an all-zero payload adds nothing to the sum and is
 * skipped), so patching seq/ports/timestamps between writes is always safe.
 * Addresses are bytes: `src`/`dst` hold 4 bytes for IPv4 (first 4 used) or 16 for IPv6.
 */
export class TcpFrameWriter {
  readonly srcMac = parseMac(DEFAULT_SRC_MAC);
  readonly dstMac = parseMac(DEFAULT_DST_MAC);
  /** VLAN tags, outermost first; replace with {@link setVlans}. */
  private vlans: VlanTag[] = [];
  ipVersion: 4 | 6 = 4;
  readonly src = new Uint8Array(16);
  readonly dst = new Uint8Array(16);
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 64240;
  /** MSS option value, or -1 for no MSS option. */
  mss = -1;
  /** Window scale shift, or -1 for no window scale option. */
  windowScale = -1;
  sackPermitted = false;
  /** Whether the timestamp option is written (with tsVal / tsEcr). */
  timestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** Payload bytes on the wire; zeros unless `payload` is set. */
  payloadLength = 0;
  /** Payload content (its first payloadLength bytes are used), or null for zeros. */
  payload: Uint8Array | null = null;
  ipId = 0;
  ttl = 64;
  /** IPv4 Don't Fragment bit (Linux sets it on TCP with path MTU discovery on). */
  dontFragment = true;
  /** IPv6 flow label. */
  flowLabel = 0;

  setVlans(vlan: EthernetSpec['vlan']): void {
    this.vlans = normalizeVlans(vlan);
  }

  /** Sets both addresses from text (same family) and the IP version with them. */
  setAddresses(src: string, dst: string): void {
    const s = parseIp(src);
    const d = parseIp(dst);
    if (s.length !== d.length) throw new TypeError(`address families differ: ${src} -> ${dst}`);
    this.ipVersion = s.length === 4 ? 4 : 6;
    this.src.fill(0).set(s);
    this.dst.fill(0).set(d);
  }

  /** Length of the TCP options as currently configured (a multiple of 4). */
  optionsLength(): number {
    let n = 0;
    if (this.mss >= 0) n += 4;
    if (this.timestamps) n += 12; // SACK-permitted rides in the 2 bytes before TS
    else if (this.sackPermitted) n += 4;
    if (this.windowScale >= 0) n += 4;
    return n;
  }

  /** Bytes `write()` will produce. */
  frameLength(): number {
    const ipHeader = this.ipVersion === 4 ? 20 : 40;
    return 14 + 4 * this.vlans.length + ipHeader + 20 + this.optionsLength() + this.payloadLength;
  }

  /**
   * Writes the frame at `buf[off..]` and returns its length. The caller makes sure
   * the buffer has {@link frameLength} bytes free.
   */
  write(buf: Buffer, off: number): number {
    const optLen = this.optionsLength();
    const tcpLen = 20 + optLen + this.payloadLength;
    const ipOff = writeEthernet(buf, off, this.dstMac, this.srcMac, this.vlans,
      this.ipVersion === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
    let tcpOff: number;
    if (this.ipVersion === 4) {
      writeIpv4Header(buf, ipOff, 20 + tcpLen, this.ipId, this.ttl, IPPROTO_TCP, this.src, this.dst, this.dontFragment);
      tcpOff = ipOff + 20;
    } else {
      writeIpv6Header(buf, ipOff, tcpLen, this.flowLabel, this.ttl, IPPROTO_TCP, this.src, this.dst);
      tcpOff = ipOff + 40;
    }
    put16(buf, tcpOff, this.srcPort);
    put16(buf, tcpOff + 2, this.dstPort);
    put32(buf, tcpOff + 4, this.seq);
    put32(buf, tcpOff + 8, this.ack);
    buf[tcpOff + 12] = ((20 + optLen) / 4) << 4;
    buf[tcpOff + 13] = this.flags;
    put16(buf, tcpOff + 14, this.window);
    buf[tcpOff + 16] = 0; // checksum, filled below
    buf[tcpOff + 17] = 0;
    buf[tcpOff + 18] = 0; // urgent pointer
    buf[tcpOff + 19] = 0;
    const dataOff = this.writeOptions(buf, tcpOff + 20);
    const end = dataOff + this.payloadLength;
    let acc = pseudoHeaderSum(buf, ipOff, this.ipVersion, IPPROTO_TCP, tcpLen);
    acc = sumBytes(buf, tcpOff, dataOff, acc);
    if (this.payloadLength > 0) {
      if (this.payload === null) {
        buf.fill(0, dataOff, end);
      } else {
        if (this.payload.length < this.payloadLength) throw new RangeError('payload shorter than payloadLength');
        buf.set(this.payload.subarray(0, this.payloadLength), dataOff);
        acc = sumBytes(buf, dataOff, end, acc);
      }
    }
    put16(buf, tcpOff + 16, finishChecksum(acc));
    return end - off;
  }

  /** Options in Linux's order (tcp_options_write): MSS, SACK-perm + TS, NOP + wscale. */
  private writeOptions(buf: Buffer, p: number): number {
    if (this.mss >= 0) {
      buf[p] = 2; buf[p + 1] = 4; put16(buf, p + 2, this.mss);
      p += 4;
    }
    if (this.timestamps) {
      if (this.sackPermitted) { buf[p] = 4; buf[p + 1] = 2; } else { buf[p] = 1; buf[p + 1] = 1; }
      buf[p + 2] = 8; buf[p + 3] = 10;
      put32(buf, p + 4, this.tsVal);
      put32(buf, p + 8, this.tsEcr);
      p += 12;
    } else if (this.sackPermitted) {
      buf[p] = 1; buf[p + 1] = 1; buf[p + 2] = 4; buf[p + 3] = 2;
      p += 4;
    }
    if (this.windowScale >= 0) {
      buf[p] = 1; buf[p + 1] = 3; buf[p + 2] = 3; buf[p + 3] = this.windowScale;
      p += 4;
    }
    return p;
  }

  /** Configures every field from a spec (the slow, readable path). */
  configure(spec: TcpFrameSpec): this {
    this.srcMac.set(parseMac(spec.srcMac ?? DEFAULT_SRC_MAC));
    this.dstMac.set(parseMac(spec.dstMac ?? DEFAULT_DST_MAC));
    this.setVlans(spec.vlan);
    this.setAddresses(spec.src, spec.dst);
    this.srcPort = spec.srcPort;
    this.dstPort = spec.dstPort;
    this.seq = spec.seq;
    this.ack = spec.ack;
    this.flags = spec.flags;
    this.window = spec.window ?? 64240;
    const o = spec.options ?? {};
    this.mss = o.mss ?? -1;
    this.windowScale = o.windowScale ?? -1;
    this.sackPermitted = o.sackPermitted ?? false;
    this.timestamps = o.tsVal !== undefined;
    this.tsVal = o.tsVal ?? 0;
    this.tsEcr = o.tsEcr ?? 0;
    this.payload = spec.payload ?? null;
    this.payloadLength = spec.payload?.length ?? spec.payloadLength ?? 0;
    this.ipId = spec.ipId ?? 0;
    this.ttl = spec.ttl ?? 64;
    // write() stores raw bytes without range checks; the readable path checks here.
    checkRange('srcPort', this.srcPort, 0xffff);
    checkRange('dstPort', this.dstPort, 0xffff);
    checkRange('seq', this.seq, 0xffffffff);
    checkRange('ack', this.ack, 0xffffffff);
    checkRange('flags', this.flags, 0xff);
    checkRange('window', this.window, 0xffff);
    if (this.mss !== -1) checkRange('mss', this.mss, 0xffff);
    if (this.windowScale !== -1) checkRange('windowScale', this.windowScale, 0xff);
    checkRange('tsVal', this.tsVal, 0xffffffff);
    checkRange('tsEcr', this.tsEcr, 0xffffffff);
    checkRange('ipId', this.ipId, 0xffff);
    checkRange('ttl', this.ttl, 0xff);
    if (this.frameLength() - 14 - 4 * this.vlans.length > 0xffff) throw new RangeError('packet longer than IP allows');
    return this;
  }
}

function checkRange(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${name} must be an integer in 0..${max}, got ${v}`);
}

/** Builds one Ethernet/IP/TCP frame with correct IP and TCP checksums. */
export function buildTcpFrame(spec: TcpFrameSpec): Buffer {
  const w = new TcpFrameWriter().configure(spec);
  const buf = Buffer.alloc(w.frameLength());
  w.write(buf, 0);
  return buf;
}

/** Where the IP header of an Ethernet frame starts (after any VLAN tags), and its EtherType. */
export function findIpHeader(frame: Uint8Array): { readonly offset: number; readonly version: 4 | 6 } {
  let p = 12;
  for (;;) {
    if (p + 2 > frame.length) throw new RangeError('frame too short for an Ethernet header');
    const type = (frame[p]! << 8) | frame[p + 1]!;
    if (type === 0x8100 || type === 0x88a8 || type === 0x9100) { p += 4; continue; }
    if (type === ETHERTYPE_IPV4) return { offset: p + 2, version: 4 };
    if (type === ETHERTYPE_IPV6) return { offset: p + 2, version: 6 };
    throw new TypeError(`frame carries EtherType 0x${type.toString(16)}, not IP`);
  }
}

export interface IcmpUnreachableSpec extends EthernetSpec {
  /** The offending frame (Ethernet, as built by buildTcpFrame); its IP header + 8 bytes are quoted. */
  readonly original: Uint8Array;
  /**
   * Who sends the error (a router or firewall on the path); default: the original
   * packet's destination, i.e. the host itself refused it.
   */
  readonly from?: string;
  /**
   * ICMP code. IPv4 type 3 codes: 0 net, 1 host, 3 port (iptables REJECT's default),
   * 13 administratively prohibited. ICMPv6 type 1 codes: 0 no route, 1 admin
   * prohibited, 3 address, 4 port. Default: port unreachable.
   */
  readonly code?: number;
  /**
   * Bytes of the original after its IP header to quote; default 8 (RFC 792; what
   * most routers and firewalls send). Linux hosts quote as much as fits in 576
   * bytes (IPv4) or 1280 bytes (IPv6, RFC 4443): pass Infinity for that.
   */
  readonly quoteBytes?: number;
  readonly ipId?: number;
  readonly ttl?: number;
}

/**
 * Builds an ICMP destination unreachable (ICMPv6 for an IPv6 original) sent back
 * to the original packet's source, quoting its IP header and the first 8 bytes of
 * its TCP header (ports and sequence number), as RFC 792 requires. MACs default to
 * the original frame's, swapped; VLAN tags must be given again if wanted.
 */
export function buildIcmpUnreachable(spec: IcmpUnreachableSpec): Buffer {
  const orig = spec.original;
  const { offset: ipOff, version } = findIpHeader(orig);
  const origHeaderLen = version === 4 ? (orig[ipOff]! & 0x0f) * 4 : 40;
  // Never quote Ethernet padding: stop at the IP packet's own length.
  const origIpLen = version === 4 ? (orig[ipOff + 2]! << 8) | orig[ipOff + 3]! : 40 + ((orig[ipOff + 4]! << 8) | orig[ipOff + 5]!);
  const maxQuote = version === 4 ? 576 - 20 - 8 : 1280 - 40 - 8;
  const quoteLen = Math.min(origHeaderLen + (spec.quoteBytes ?? 8), origIpLen, orig.length - ipOff, maxQuote);
  const quote = orig.subarray(ipOff, ipOff + quoteLen);
  const origSrc = version === 4 ? orig.subarray(ipOff + 12, ipOff + 16) : orig.subarray(ipOff + 8, ipOff + 24);
  const origDst = version === 4 ? orig.subarray(ipOff + 16, ipOff + 20) : orig.subarray(ipOff + 24, ipOff + 40);
  const from = spec.from === undefined ? origDst : parseIp(spec.from);
  if (from.length !== origSrc.length) throw new TypeError('`from` must be the same address family as the original');
  const dstMac = spec.dstMac === undefined ? orig.subarray(6, 12) : parseMac(spec.dstMac);
  const srcMac = spec.srcMac === undefined ? orig.subarray(0, 6) : parseMac(spec.srcMac);
  const vlans = normalizeVlans(spec.vlan);

  const icmpLen = 8 + quoteLen;
  const ipHeaderLen = version === 4 ? 20 : 40;
  const buf = Buffer.alloc(14 + 4 * vlans.length + ipHeaderLen + icmpLen);
  const l3 = writeEthernet(buf, 0, dstMac, srcMac, vlans, version === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6);
  const icmpOff = l3 + ipHeaderLen;
  if (version === 4) {
    // ICMP errors are sent without DF (Linux icmp_send leaves frag_off 0).
    writeIpv4Header(buf, l3, ipHeaderLen + icmpLen, spec.ipId ?? 0, spec.ttl ?? 64, IPPROTO_ICMP, from, origSrc, false);
    buf[icmpOff] = 3;
    buf[icmpOff + 1] = spec.code ?? 3;
  } else {
    writeIpv6Header(buf, l3, icmpLen, 0, spec.ttl ?? 64, IPPROTO_ICMPV6, from, origSrc);
    buf[icmpOff] = 1;
    buf[icmpOff + 1] = spec.code ?? 4;
  }
  // Bytes 4..7 are unused (zero) for destination unreachable in both versions.
  buf.set(quote, icmpOff + 8);
  let acc = version === 6 ? pseudoHeaderSum(buf, l3, 6, IPPROTO_ICMPV6, icmpLen) : 0;
  acc = sumBytes(buf, icmpOff, icmpOff + icmpLen, acc);
  buf.writeUInt16BE(finishChecksum(acc), icmpOff + 2);
  return buf;
}

export interface ArpRequestSpec {
  /** Who asks: sender MAC and IPv4 address. */
  readonly senderMac: string;
  readonly senderIp: string;
  /** The address being resolved (for example a client address asked for on the wrong bridge). */
  readonly targetIp: string;
  readonly vlan?: EthernetSpec['vlan'];
  /** Pad to the 60-byte Ethernet minimum, as a receiving host captures it; default false (as the sender captures it). */
  readonly pad?: boolean;
}

/** Builds a broadcast ARP request "who-has targetIp tell senderIp" (RFC 826). */
export function buildArpRequest(spec: ArpRequestSpec): Buffer {
  const senderMac = parseMac(spec.senderMac);
  const senderIp = parseIp(spec.senderIp);
  const targetIp = parseIp(spec.targetIp);
  if (senderIp.length !== 4 || targetIp.length !== 4) throw new TypeError('ARP resolves IPv4 addresses only');
  const vlans = normalizeVlans(spec.vlan);
  const len = 14 + 4 * vlans.length + 28;
  const buf = Buffer.alloc(spec.pad === true ? Math.max(len, 60) : len);
  const p = writeEthernet(buf, 0, new Uint8Array(6).fill(0xff), senderMac, vlans, ETHERTYPE_ARP);
  buf.writeUInt16BE(1, p); // hardware type: Ethernet
  buf.writeUInt16BE(ETHERTYPE_IPV4, p + 2);
  buf[p + 4] = 6;
  buf[p + 5] = 4;
  buf.writeUInt16BE(1, p + 6); // request
  buf.set(senderMac, p + 8);
  buf.set(senderIp, p + 14);
  // Target hardware address stays zero: unknown, that is what is asked.
  buf.set(targetIp, p + 24);
  return buf;
}
