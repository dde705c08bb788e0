import type { HostContext } from '../context/host-context';
import type { NetfilterRule } from '../context/netfilter-rules';
import { parseSubnet, subnetContains } from '../net/cidr';
import { holderOf } from './docker-holder';
import { natTarget } from './nat-hop';
import { ruleText, rulesetOf } from './netfilter-walk';

/**
 * A TCP port this host DNATs (Docker: publishes) only for other addresses of its own than
 * the one a SYN went to: `docker run -p 127.0.0.1:8081:80` writes
 * `-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp --dport 8081 -j DNAT --to-destination 172.17.0.3:80`,
 * and docker-proxy listens on 127.0.0.1:8081 only, so a SYN to the host's LAN address and
 * port 8081 meets neither and gets a RST.
 */
export interface PublishedElsewhere {
  /** The destinations the port is published for ("127.0.0.1"). */
  addresses: string[];
  /** The DNAT rules, as printed. */
  rules: string[];
  /** Where the first of them sends the SYN's port ("172.17.0.3", 80). */
  target: { ip: string; port: number };
  /** The Docker container holding the target address, or null. */
  container: string | null;
}

/**
 * The DNAT rules for TCP port `port` when every one of them names a single destination
 * other than `ip`; null when there is none, or one may take a SYN to `ip` (no destination,
 * a negated one, one that contains it, or one this reader cannot read: a range, a set):
 * then the port may be published there after all, and the refusal has another story.
 */
export function publishedElsewhere(ctx: HostContext, ip: string, port: number): PublishedElsewhere | null {
  const v6 = ip.includes(':');
  const found: NetfilterRule[] = [];
  for (const chains of rulesetOf(ctx).values()) {
    for (const chain of chains.values()) {
      // iptables-save's tables are `ip` (IPv4); nft's say their family; `inet` holds both.
      const family = chain.family ?? 'ip';
      if (family !== 'inet' && family !== (v6 ? 'ip6' : 'ip')) continue;
      for (const rule of chain.rules) {
        if (rule.target !== 'DNAT' || !forTcpPort(rule, port) || (rule.ipVersion !== undefined && rule.ipVersion !== (v6 ? 6 : 4))) continue;
        const dst = rule.destination;
        if (dst === undefined || dst.negated) return null;
        const subnet = parseSubnet(dst.value.includes('/') ? dst.value : `${dst.value}/${v6 ? 128 : 32}`);
        if (subnet === null) return null;
        if (subnet.version !== (v6 ? 6 : 4)) continue;
        if (subnetContains(subnet, ip)) return null;
        found.push(rule);
      }
    }
  }
  const first = found[0];
  const to = natTarget(first?.toDestination, port);
  if (first === undefined || to === null) return null;
  // A published range (-p 9000-9010:9000-9010) keeps the SYN's offset in it.
  const ranged = /:\d+-\d+$/.test(first.toDestination ?? '') ? to.port + (port - first.destinationPort!.value.from) : to.port;
  return {
    addresses: [...new Set(found.map((r) => r.destination!.value.replace(/\/(32|128)$/, '')))],
    rules: found.map(ruleText),
    target: { ip: to.ip, port: ranged },
    container: holderOf(ctx, to.ip),
  };
}

function forTcpPort(rule: NetfilterRule, port: number): boolean {
  const proto = rule.protocol;
  if (proto !== undefined && (proto.negated || (proto.value !== 'tcp' && proto.value !== '6'))) return false;
  const dport = rule.destinationPort;
  return dport !== undefined && !dport.negated && port >= dport.value.from && port <= dport.value.to;
}
