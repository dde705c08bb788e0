import { Layer, type LayerId } from './layer';
import { Transport, type DecodedPacket } from './packet';

/** IP protocol numbers (IANA) the decoders know. */
export const IpProto = {
  HOP_BY_HOP: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPV6_ROUTING: 43,
  IPV6_FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  IPV6_NO_NEXT: 59,
  IPV6_DEST_OPTIONS: 60,
  MOBILITY: 135,
} as const;

const NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'HOPOPT'],
  [1, 'ICMP'],
  [2, 'IGMP'],
  [4, 'IPIP'],
  [6, 'TCP'],
  [17, 'UDP'],
  [41, 'IPv6'],
  [43, 'IPv6-Route'],
  [44, 'IPv6-Frag'],
  [47, 'GRE'],
  [50, 'ESP'],
  [51, 'AH'],
  [58, 'ICMPv6'],
  [59, 'IPv6-NoNxt'],
  [60, 'IPv6-Opts'],
  [89, 'OSPF'],
  [103, 'PIM'],
  [112, 'VRRP'],
  [132, 'SCTP'],
  [135, 'Mobility'],
]);

/** IANA keyword of an IP protocol number ("TCP"), or "proto-<n>" when unknown. */
export function ipProtoName(proto: number): string {
  return NAMES.get(proto) ?? `proto-${proto}`;
}

/**
 * Stores the final IP protocol and names the transport decoder. Protocols we do not
 * decode (GRE, ESP, no-next-header...) end the packet as Transport.OTHER_IP.
 */
export function nextForIpProto(pkt: DecodedPacket, proto: number): LayerId {
  pkt.ipProto = proto;
  switch (proto) {
    case IpProto.TCP:
      return Layer.TCP;
    case IpProto.UDP:
      return Layer.UDP;
    case IpProto.ICMP:
      return Layer.ICMPV4;
    case IpProto.ICMPV6:
      return Layer.ICMPV6;
    default:
      pkt.transport = Transport.OTHER_IP;
      return Layer.DONE;
  }
}
