import { formatAddress, formatMac, ipv4ToString } from '../decode/address';
import type { DecodedPacket } from '../decode/packet';
import type { MacSighting } from '../diagnose/input';
import { AddressIds } from '../evidence/address-ids';
import { ArpLog } from '../evidence/arp-log';
import { LinkMacs } from '../evidence/link-macs';
import { MacSightings } from '../evidence/mac-sightings';
import type { NativeFrameEvidence } from '../flow/native-tracker';

const MAX_REMEMBERED_NETWORKS = 65536;
const MAX_MAC_KEYS = 65536;
const MAX_MACS_PER_KEY = 8;

/**
 * Stage 2b, beside tracking: what single packets say about the link layer and the address
 * space, for the rules. ARP requests and replies, the source MACs each address shows on
 * each interface (from handshake packets and ARP only: cheap, and enough to see one address
 * behind several MACs), the unicast MACs per interface (for the context check), and the
 * IPv4 /24s seen as TCP endpoints (what a proposed subnet must avoid). All bounded.
 */
export class PacketEvidence {
  readonly arp = new ArpLog();
  /** Unicast MACs per interface (handshakes and ARP), for the context check. */
  linkMacs = new LinkMacs();
  /** Source MACs per (IPv4 address * 2^16 + interface id). */
  private macsV4 = new MacSightings();
  /** The same for IPv6, per (address id in v6Ids * 2^16 + interface id), in first-seen order. */
  private readonly macsV6 = new Map<number, Map<number, number>>();
  private readonly v6Ids = new AddressIds(MAX_MAC_KEYS);
  /** IPv4 /24 networks (address >>> 8) seen as TCP endpoints. */
  private readonly seenIpv4Networks = new Set<number>();

  /** A SYN or SYN-ACK: its link MACs and its source MAC (`macOffset`: Ethernet or Linux cooked sender, or -1). */
  handshakePacket(pkt: DecodedPacket, data: Buffer, iface: number, macOffset: number): void {
    // A frame out of VXLAN went over the wire in its tunnel's Ethernet header: those are the interface's MACs.
    const linkEth = pkt.vxlanVni >= 0 ? pkt.vxlanOuterEthOffset : pkt.ethOffset;
    if (linkEth >= 0) this.noteLink(iface, data, linkEth);
    if (macOffset < 0) return;
    if (pkt.ipVersion === 4) this.macsV4.note(pkt.src[3]! * 65536 + iface, data.readUIntBE(macOffset, 6));
    else this.sourceMacV6(pkt.src, iface, data.readUIntBE(macOffset, 6));
  }

  /** An ARP message, to the ARP log. */
  arpPacket(pkt: DecodedPacket, time: number, iface: number): void {
    this.arp.note(pkt.arpOp, pkt.arpSenderIp, pkt.arpTargetIp, time, iface);
  }

  /** An ARP message's link MACs and its sender's MAC. */
  arpMacs(pkt: DecodedPacket, data: Buffer, iface: number): void {
    if (pkt.ethOffset >= 0) this.noteLink(iface, data, pkt.ethOffset);
    if (pkt.arpSenderMacOffset >= 0 && pkt.arpSenderIp !== 0) this.macsV4.note(pkt.arpSenderIp * 65536 + iface, data.readUIntBE(pkt.arpSenderMacOffset, 6));
  }

  /**
   * With the native tracker, C noted every frame's link MACs and the IPv4 source MACs
   * (handshakes and ARP, in frame order): its tables replace these. IPv6 sightings stay here.
   */
  adoptNative(ev: NativeFrameEvidence): void {
    this.macsV4 = MacSightings.fromSlots(ev.macKeys, ev.macFirst, ev.macPackets, ev.macMore);
    this.linkMacs = LinkMacs.fromLists(ev.links);
  }

  /** A flow's IPv4 endpoint (uint32, or -1 for IPv6). */
  seeIpv4(address: number): void {
    if (address >= 0 && this.seenIpv4Networks.size < MAX_REMEMBERED_NETWORKS) this.seenIpv4Networks.add(address >>> 8);
  }

  /** The /24s the native tracker saw (flow-account.c), first seen first, as seeIpv4 would have kept them. */
  adoptNetworks(networks: Float64Array): void {
    for (const n of networks) this.seenIpv4Networks.add(n);
  }

  /** The /24s seen, as their network address. */
  seenAddresses(): Set<string> {
    return new Set([...this.seenIpv4Networks].map((n) => ipv4ToString((n << 8) >>> 0)));
  }

  /** Source MACs by IP address, with interface names. Build it once: a flood fills it with tens of thousands of addresses. */
  addressMacs(interfaceNames: readonly string[]): Map<string, MacSighting[]> {
    const out = new Map<string, MacSighting[]>();
    // A few MACs (gateways, bridges) stand behind most addresses: each is formatted once.
    const macText = new Map<number, string>();
    const text = (mac: number) => {
      let t = macText.get(mac);
      if (t === undefined) macText.set(mac, (t = formatMac(mac)));
      return t;
    };
    const add = (address: string, iface: number, byMac: Iterable<readonly [number, number]>) => {
      let list = out.get(address);
      if (list === undefined) out.set(address, (list = []));
      for (const [mac, packets] of byMac) list.push({ mac: text(mac), interface: interfaceNames[iface]!, packets });
    };
    this.macsV4.forEach((key, mac, packets, more) => {
      const address = ipv4ToString(Math.floor(key / 65536));
      const iface = key % 65536;
      if (more !== undefined) add(address, iface, new Map([[mac, packets] as const, ...more].slice(0, MAX_MACS_PER_KEY)));
      else if (out.has(address)) add(address, iface, [[mac, packets]]);
      else out.set(address, [{ mac: text(mac), interface: interfaceNames[iface]!, packets }]);
    });
    const words = new Uint32Array(4);
    for (const [key, byMac] of this.macsV6) add(formatAddress(this.v6Ids.wordsOf(Math.floor(key / 65536), words), 6), key % 65536, byMac);
    return out;
  }

  private noteLink(iface: number, data: Buffer, ethOffset: number): void {
    this.linkMacs.note(iface, data.readUIntBE(ethOffset + 6, 6), data.readUIntBE(ethOffset, 6));
  }

  /** The source MAC of an IPv6 handshake packet. */
  sourceMacV6(address: Uint32Array, iface: number, mac: number): void {
    // A new address means a new key: once the keys are full, known addresses only.
    const full = this.macsV6.size >= MAX_MAC_KEYS;
    const id = full ? this.v6Ids.find(address) : this.v6Ids.id(address);
    if (id < 0) return;
    const key = id * 65536 + iface;
    let byMac = this.macsV6.get(key);
    if (byMac === undefined) {
      if (full) return;
      byMac = new Map();
      this.macsV6.set(key, byMac);
    }
    const n = byMac.get(mac);
    if (n !== undefined) byMac.set(mac, n + 1);
    else if (byMac.size < MAX_MACS_PER_KEY) byMac.set(mac, 1);
  }
}
