import { formatAddress, formatEndpoint } from '../decode/address';
import { TcpFlag, type DecodedPacket } from '../decode/packet';

/** Handshakes remembered per analysis as VXLAN legs; later ones are counted, not kept. */
export const MAX_VXLAN_LEGS = 4096;

/**
 * One handshake seen decapsulated from VXLAN on one interface: the overlay leg of its path
 * (a swarm's ingress or an overlay network carrying it between two nodes). The flow of the
 * same inner tuple merges this leg with the namespaces on either side (ingress_sbox, the
 * task), so what the tunnel itself carried is kept here.
 */
export interface VxlanLeg {
  /** Interface id the tunnel packets were captured on (the node's uplink). */
  iface: number;
  vni: number;
  /** The inner handshake: client and server "ip:port" and the client's ISN. */
  client: string;
  server: string;
  isn: number;
  /** The tunnel endpoints the SYN went between (its outer source and destination: the two nodes). */
  from: string;
  to: string;
  /** Capture time of the first SYN through the tunnel, or null (only SYN-ACKs were seen). */
  firstSynAt: number | null;
  syns: number;
  synAcks: number;
}

/** The VXLAN legs of one analysis's handshakes, bounded by MAX_VXLAN_LEGS. */
export class VxlanLegs {
  private readonly legs = new Map<string, VxlanLeg>();
  /** Handshakes not kept because the bound was reached. */
  notRecorded = 0;

  constructor(private readonly capacity = MAX_VXLAN_LEGS) {}

  /** Notes a decapsulated SYN or SYN-ACK (pkt.vxlanVni >= 0); other packets are ignored. */
  add(pkt: DecodedPacket, time: number, iface: number): void {
    const flags = pkt.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST);
    const syn = flags === TcpFlag.SYN;
    if (pkt.vxlanVni < 0 || (!syn && flags !== (TcpFlag.SYN | TcpFlag.ACK))) return;
    const v = pkt.ipVersion as 4 | 6;
    const outerV = pkt.vxlanOuterIpVersion as 4 | 6;
    const src = formatEndpoint(formatAddress(pkt.src, v), pkt.srcPort, v);
    const dst = formatEndpoint(formatAddress(pkt.dst, v), pkt.dstPort, v);
    const outerSrc = formatAddress(pkt.vxlanOuterSrc, outerV);
    const outerDst = formatAddress(pkt.vxlanOuterDst, outerV);
    const [client, server, isn, from, to] = syn ? [src, dst, pkt.seq >>> 0, outerSrc, outerDst] : [dst, src, (pkt.ack - 1) >>> 0, outerDst, outerSrc];
    const key = `${iface}|${pkt.vxlanVni}|${client}|${server}|${isn}`;
    let leg = this.legs.get(key);
    if (leg === undefined) {
      if (this.legs.size >= this.capacity) {
        this.notRecorded++;
        return;
      }
      leg = { iface, vni: pkt.vxlanVni, client, server, isn, from, to, firstSynAt: null, syns: 0, synAcks: 0 };
      this.legs.set(key, leg);
    }
    if (syn) {
      leg.syns++;
      if (leg.firstSynAt === null) leg.firstSynAt = time;
    } else {
      leg.synAcks++;
    }
  }

  list(): VxlanLeg[] {
    return [...this.legs.values()];
  }
}
