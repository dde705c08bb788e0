import { Layer } from './layer';
import type { DecodedPacket } from './packet';

/**
 * Why decoding of a packet stopped early. A malformed packet is data, not an error:
 * the decoder keeps what it could, sets `pkt.problem` to one of these codes, and the
 * report counts them (tcpdump's `[|tcp]`, Zeek's weirds).
 *
 * Categories: `truncated` = the capture ran out of bytes (snaplen, cut record);
 * `invalid` = a field says something impossible; `skipped` = well-formed but
 * deliberately not decoded further (non-first fragments); `unsupported` = a
 * link type or encapsulation this decoder does not know.
 */
export const Problem = {
  NONE: 0,
  TRUNCATED_ETHERNET: 1,
  TRUNCATED_VLAN: 2,
  TRUNCATED_SLL: 3,
  TRUNCATED_SLL2: 4,
  TRUNCATED_NULL_LOOPBACK: 5,
  TRUNCATED_MPLS: 6,
  TRUNCATED_PPPOE: 7,
  TRUNCATED_ARP: 8,
  /** Not even the version nibble of a raw IP packet was captured. */
  TRUNCATED_IP: 9,
  TRUNCATED_IPV4: 10,
  TRUNCATED_IPV6: 11,
  TRUNCATED_IPV6_EXTENSION: 12,
  TRUNCATED_TCP: 13,
  TRUNCATED_UDP: 14,
  TRUNCATED_VXLAN: 15,
  TRUNCATED_ICMP: 16,
  /** The ICMP error's quoted IP header (+ 8 transport bytes) was cut short. */
  TRUNCATED_ICMP_QUOTE: 17,
  INVALID_IP_VERSION: 18,
  BAD_IPV4_HEADER_LENGTH: 19,
  BAD_IPV4_TOTAL_LENGTH: 20,
  BAD_IPV6_JUMBO: 21,
  BAD_IPV6_PAYLOAD_LENGTH: 22,
  BAD_TCP_DATA_OFFSET: 23,
  BAD_UDP_LENGTH: 24,
  BAD_PPPOE_HEADER: 25,
  IPV4_FRAGMENT: 26,
  IPV6_FRAGMENT: 27,
  UNSUPPORTED_LINK_TYPE: 28,
  UNSUPPORTED_ETHERTYPE: 29,
  UNSUPPORTED_ADDRESS_FAMILY: 30,
  UNSUPPORTED_MPLS_PAYLOAD: 31,
  TOO_MANY_LAYERS: 32,
} as const;

/** A decoded packet's `problem` when it has one. */
export type ProblemCode = (typeof Problem)[keyof typeof Problem];
export type ProblemCategory = 'truncated' | 'invalid' | 'skipped' | 'unsupported';

type Entry = readonly [name: string, category: ProblemCategory];

/** Indexed by code; entry 0 (NONE) is never reported. */
const TABLE: readonly Entry[] = [
  ['none', 'invalid'],
  ['truncated-ethernet', 'truncated'],
  ['truncated-vlan', 'truncated'],
  ['truncated-sll', 'truncated'],
  ['truncated-sll2', 'truncated'],
  ['truncated-null-loopback', 'truncated'],
  ['truncated-mpls', 'truncated'],
  ['truncated-pppoe', 'truncated'],
  ['truncated-arp', 'truncated'],
  ['truncated-ip', 'truncated'],
  ['truncated-ipv4', 'truncated'],
  ['truncated-ipv6', 'truncated'],
  ['truncated-ipv6-extension', 'truncated'],
  ['truncated-tcp', 'truncated'],
  ['truncated-udp', 'truncated'],
  ['truncated-vxlan', 'truncated'],
  ['truncated-icmp', 'truncated'],
  ['truncated-icmp-quote', 'truncated'],
  ['invalid-ip-version', 'invalid'],
  ['bad-ipv4-header-length', 'invalid'],
  ['bad-ipv4-total-length', 'invalid'],
  ['bad-ipv6-jumbo', 'invalid'],
  ['bad-ipv6-payload-length', 'invalid'],
  ['bad-tcp-data-offset', 'invalid'],
  ['bad-udp-length', 'invalid'],
  ['bad-pppoe-header', 'invalid'],
  ['ipv4-fragment', 'skipped'],
  ['ipv6-fragment', 'skipped'],
  ['unsupported-link-type', 'unsupported'],
  ['unsupported-ethertype', 'unsupported'],
  ['unsupported-address-family', 'unsupported'],
  ['unsupported-mpls-payload', 'unsupported'],
  ['too-many-layers', 'unsupported'],
];

/** Stable kebab-case name of a problem code ("truncated-tcp"); "problem-<n>" if unknown. */
export function problemName(code: number): string {
  return TABLE[code]?.[0] ?? `problem-${code}`;
}

/** Category of a problem code; `undefined` for NONE and unknown codes. */
export function problemCategory(code: number): ProblemCategory | undefined {
  if (code <= 0) return undefined;
  return TABLE[code]?.[1];
}

/** Every problem code with its name and category, for reports and docs. */
export function allProblems(): { code: ProblemCode; name: string; category: ProblemCategory }[] {
  const out: { code: ProblemCode; name: string; category: ProblemCategory }[] = [];
  for (let code = 1; code < TABLE.length; code++) {
    const [name, category] = TABLE[code]!;
    out.push({ code: code as ProblemCode, name, category });
  }
  return out;
}

/** Records why decoding stopped and tells the dispatcher to stop: `return fail(pkt, Problem.X)`. */
export function fail(pkt: DecodedPacket, code: ProblemCode): typeof Layer.DONE {
  pkt.problem = code;
  return Layer.DONE;
}
