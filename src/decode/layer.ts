/**
 * Layer ids the dispatcher walks: each decoder returns the id of what comes next
 * (gopacket's NextLayerType), so stacked VLAN tags and VXLAN need no special case.
 */
export const Layer = {
  DONE: 0,
  ETHERNET: 1,
  VLAN: 2,
  SLL: 3,
  SLL2: 4,
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
} as const;

export type LayerId = (typeof Layer)[keyof typeof Layer];
