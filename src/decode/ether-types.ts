import { Layer, type LayerId } from './layer';
import type { DecodedPacket } from './packet';
import { Problem } from './problems';

/** Ethernet types (IEEE registry) the decoders know or name. */
export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  MPLS_UNICAST: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_DISCOVERY: 0x8863,
  PPPOE_SESSION: 0x8864,
  QINQ: 0x88a8,
  LLDP: 0x88cc,
  MACSEC: 0x88e5,
  PBB: 0x88e7,
  /** Pre-standard QinQ tag used by some switches. */
  QINQ_9100: 0x9100,
} as const;

const NAMES: ReadonlyMap<number, string> = new Map([
  [0x0800, 'IPv4'],
  [0x0806, 'ARP'],
  [0x8035, 'RARP'],
  [0x8100, '802.1Q'],
  [0x86dd, 'IPv6'],
  [0x8808, 'Ethernet flow control'],
  [0x8809, 'Slow protocols (LACP)'],
  [0x8847, 'MPLS unicast'],
  [0x8848, 'MPLS multicast'],
  [0x8863, 'PPPoE discovery'],
  [0x8864, 'PPPoE session'],
  [0x888e, 'EAPOL'],
  [0x88a8, '802.1ad'],
  [0x88cc, 'LLDP'],
  [0x88e5, 'MACsec'],
  [0x88e7, '802.1ah PBB'],
  [0x88f7, 'PTP'],
  [0x8906, 'FCoE'],
  [0x9000, 'Loopback'],
  [0x9100, 'QinQ (0x9100)'],
]);

/** Human name of an ethertype, or its hex ("0x1234") when unknown. */
export function etherTypeName(type: number): string {
  return NAMES.get(type) ?? `0x${type.toString(16).padStart(4, '0')}`;
}

/**
 * The layer that decodes an ethertype's payload. Types we do not decode (LLDP, STP...)
 * give DONE: the packet simply ends with Transport.NONE, which is not a problem.
 * Shared by Ethernet, VLAN, SLL and SLL2.
 */
export function layerForEtherType(type: number): LayerId {
  switch (type) {
    case EtherType.IPV4:
      return Layer.IPV4;
    case EtherType.IPV6:
      return Layer.IPV6;
    case EtherType.ARP:
      return Layer.ARP;
    case EtherType.VLAN:
    case EtherType.QINQ:
    case EtherType.QINQ_9100:
      return Layer.VLAN;
    case EtherType.MPLS_UNICAST:
    case EtherType.MPLS_MULTICAST:
      return Layer.MPLS;
    case EtherType.PPPOE_SESSION:
      return Layer.PPPOE;
    default:
      return Layer.DONE;
  }
}

/**
 * Ethertypes that wrap another frame we cannot open (MACsec encrypts it, PBB nests a
 * provider frame): a packet ending there may hide a TCP handshake, so it is counted
 * as an `unsupported-ethertype` problem rather than silently ignored.
 */
export function hidesInnerFrame(type: number): boolean {
  return type === EtherType.MACSEC || type === EtherType.PBB;
}

/**
 * Stores a link layer's payload type in `pkt.etherType` and names the next layer.
 * Values below 0x0600 are 802.3 lengths (LLC frames), which we do not decode.
 */
export function nextForEtherType(pkt: DecodedPacket, type: number): LayerId {
  pkt.etherType = type;
  const next = layerForEtherType(type);
  if (next === Layer.DONE && hidesInnerFrame(type)) pkt.problem = Problem.UNSUPPORTED_ETHERTYPE;
  return next;
}
