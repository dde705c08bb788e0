import type { Finding } from '../diagnose/finding';

/** What a finding is about, so a watch can tell the same failure in the next window. */
export interface FindingSubject {
  kind: 'service' | 'bridge' | 'interface' | 'client-subnet' | 'host';
  /** "10.0.0.5:443", "docker_gwbridge", "eth0", "192.168.7.0/24". */
  name: string;
}

/**
 * The subject of a finding: its evidence's `service` (the listener the attempts went to),
 * else its `bridge`, else its `interface`, else its clients' subnet (the evidence's
 * `subnet`, else the first client's /24 or /64). A finding about none of these (a capture
 * problem) is about the host. With the node and the code it names a failure across
 * windows, whatever its counts or clients do from one window to the next.
 */
export function findingSubject(finding: Pick<Finding, 'evidence' | 'clients'>): FindingSubject {
  const e = finding.evidence;
  if (typeof e['service'] === 'string') return { kind: 'service', name: e['service'] };
  if (typeof e['bridge'] === 'string') return { kind: 'bridge', name: e['bridge'] };
  if (typeof e['interface'] === 'string') return { kind: 'interface', name: e['interface'] };
  if (typeof e['subnet'] === 'string') return { kind: 'client-subnet', name: e['subnet'] };
  const client = finding.clients?.[0];
  if (client !== undefined) return { kind: 'client-subnet', name: clientSubnet(client) };
  return { kind: 'host', name: 'host' };
}

/** 10.1.2.3 → 10.1.2.0/24; 2001:db8:1:2::5 → 2001:db8:1:2::/64 (client lists hold bare addresses). */
function clientSubnet(address: string): string {
  if (!address.includes(':')) {
    const octets = address.split('.');
    return octets.length === 4 ? `${octets.slice(0, 3).join('.')}.0/24` : address;
  }
  const [head = ''] = address.split('::');
  const groups = head.split(':').slice(0, 4);
  return `${groups.join(':')}::/64`;
}
