/** ICMPv4 destination-unreachable codes (RFC 792, RFC 1812 section 5.2.7.1). */
const ICMP4_UNREACH: Record<number, string> = {
  0: 'net unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed',
  5: 'source route failed',
  6: 'destination network unknown',
  7: 'destination host unknown',
  9: 'network administratively prohibited',
  10: 'host administratively prohibited',
  13: 'communication administratively prohibited',
};

/** ICMPv6 destination-unreachable codes (RFC 4443 section 3.1). */
const ICMP6_UNREACH: Record<number, string> = {
  0: 'no route to destination',
  1: 'communication administratively prohibited',
  2: 'beyond scope of source address',
  3: 'address unreachable',
  4: 'port unreachable',
  5: 'source address failed ingress/egress policy',
  6: 'reject route to destination',
};

/** A short human name for an ICMP error, e.g. "ICMP port unreachable (type 3 code 3)". */
export function icmpErrorName(ipVersion: 4 | 6, type: number, code: number): string {
  const family = ipVersion === 6 ? 'ICMPv6' : 'ICMP';
  let name: string | undefined;
  if (ipVersion === 4) {
    if (type === 3) name = ICMP4_UNREACH[code];
    else if (type === 11) name = 'time exceeded';
    else if (type === 12) name = 'parameter problem';
    else if (type === 4) name = 'source quench';
    else if (type === 5) name = 'redirect';
  } else {
    if (type === 1) name = ICMP6_UNREACH[code];
    else if (type === 2) name = 'packet too big';
    else if (type === 3) name = 'time exceeded';
    else if (type === 4) name = 'parameter problem';
  }
  return `${family} ${name ?? 'error'} (type ${type} code ${code})`;
}

/** True for the codes a firewall uses to refuse (iptables REJECT --reject-with icmp-admin-prohibited and friends). */
export function isAdministrativeReject(ipVersion: 4 | 6, type: number, code: number): boolean {
  if (ipVersion === 4) return type === 3 && (code === 9 || code === 10 || code === 13);
  return type === 1 && (code === 1 || code === 5 || code === 6);
}
