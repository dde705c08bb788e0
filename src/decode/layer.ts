/**
 * Layer ids the dispatcher walks: each decoder returns the id of what comes next
 * (gopacket's NextLayerType), so stacked VLAN tags and VXLAN need no special case.
 * A decoder that stops with a problem sets `pkt.problem` and returns DONE.
 */
export const Layer = {
  DONE: 0,
  ETHERNET: 1,
  VLAN: 2,
  SLL: 3,
  SLL2: 4,
  /** LINKTYPE_NULL (0): 4-byte address family in the writer's host byte order. */
  NULL_LOOPBACK: 5,
  RAW_IP: 6,
  IPV4: 7,
  IPV6: 8,
  TCP: 9,
  UDP: 10,
  ICMPV4: 11,
  ICMPV6: 12,
  ARP: 13,
  VXLAN: 14,
  MPLS: 15,
  PPPOE: 16,
  /** LINKTYPE_LOOP (108): 4-byte address family in network byte order. */
  LOOP: 17,
} as const;

export type LayerId = (typeof Layer)[keyof typeof Layer];

/** One past the largest layer id (size of the dispatcher's decoder table). */
export const LAYER_COUNT = Object.keys(Layer).length;

const LAYER_NAMES: readonly string[] = [
  'done', 'ethernet', 'vlan', 'sll', 'sll2', 'null-loopback', 'raw-ip', 'ipv4', 'ipv6',
  'tcp', 'udp', 'icmpv4', 'icmpv6', 'arp', 'vxlan', 'mpls', 'pppoe', 'loop',
];

/** Lower-case name of a layer id, e.g. "ipv4"; "layer-<n>" for an unknown id. */
export function layerName(id: number): string {
  return LAYER_NAMES[id] ?? `layer-${id}`;
}
