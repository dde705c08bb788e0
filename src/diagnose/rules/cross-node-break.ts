import type { AttemptPath, Hop } from '../../flow/attempt-path';
import type { Finding } from '../finding';
import { MAX_FINDING_CLIENTS, MAX_FINDING_FLOWS } from '../finding-counts';
import { distinct, groupBy } from '../group';

/** Where a spanning attempt died: the last hop its packet reached, and the next hop it should have reached. */
export interface Death {
  path: AttemptPath;
  direction: 'syn' | 'syn-ack';
  seenAt: string;
  /** The next hop in the packet's direction, "client", or null (the SYN reached the last hop and nothing answered). */
  missingAt: string | null;
  /** The two hops as hops of the path, where they are. */
  seenHop: Hop;
  missingHop: Hop | null;
}

/** `missingOn`: the receiving node's uplink, when the SYN left over VXLAN and was never seen there. */
export function deathOf(path: AttemptPath, missingOn: string | null): Death {
  const answered = path.hops.findIndex((h) => h.synAcks > 0);
  if (answered < 0) {
    const last = path.hops[path.hops.length - 1]!;
    return { path, direction: 'syn', seenAt: last.interface, missingAt: missingOn, seenHop: last, missingHop: null };
  }
  const seenHop = path.hops[answered]!;
  const missingHop = answered === 0 ? null : path.hops[answered - 1]!;
  return { path, direction: 'syn-ack', seenAt: seenHop.interface, missingAt: missingHop?.interface ?? 'client', seenHop, missingHop };
}

const nodeOf = (iface: string) => iface.slice(iface.lastIndexOf('@') + 1);

/**
 * `nat-path-break` for attempts stitched across nodes (src/hosts/cross-host-stitch.ts): one
 * finding per place where they died (same service, last hop seen, next hop missing), in
 * place of each node's view of its half; the remedy says which node's rules to check, for
 * the tunnel's way in or out, or the way between the nodes.
 */
export function crossNodeBreakRule(deaths: readonly Death[]): Finding[] {
  const groups = groupBy(deaths, (d) => `${d.path.hops[0]!.server}|${d.direction}|${d.seenAt}|${d.missingAt ?? ''}`);
  return [...groups.values()].map((group) => {
    const d = group[0]!;
    const service = d.path.hops[0]!.server;
    const clients = distinct(group.map((g) => clientAddress(g.path.hops[0]!.client)), MAX_FINDING_CLIENTS);
    const via = d.path.hops.find((h) => h.via !== undefined)!.via!;
    const nodes = distinct([...d.path.hops.map((h) => nodeOf(h.interface)), ...(d.missingAt === null || d.missingAt === 'client' ? [] : [nodeOf(d.missingAt)])], 10);
    const what =
      d.direction === 'syn-ack'
        ? `the SYN-ACK was seen at ${d.seenAt} but not at ${d.missingAt}: it died between them`
        : d.missingAt !== null
          ? `the SYN left ${d.seenAt} over the overlay and never arrived at ${d.missingAt}`
          : `the SYN reached ${d.seenAt} and no SYN-ACK came back at any hop`;
    return {
      code: 'nat-path-break',
      severity: 'error',
      confidence: 'high',
      title: `${service}: attempts across ${nodes.join(' and ')} (${via}) die: ${what}`,
      explanation: `${group.length} attempt${group.length === 1 ? '' : 's'} to ${service} entered ${nodes[0]} and went over the overlay (${via}) toward a task on ${nodes[nodes.length - 1]}; ${what}.`,
      evidence: {
        service,
        attempts: group.length,
        clients,
        direction: d.direction,
        seenAt: d.seenAt,
        missingAt: d.missingAt,
        nodes,
        via,
        hops: d.path.hops,
        reached: d.path.reached,
        attemptIds: group.slice(0, 20).map((g) => g.path.id),
      },
      flows: group.flatMap((g) => g.path.flows).slice(0, MAX_FINDING_FLOWS),
      flowCount: group.length,
      clients,
      clientCount: clients.length,
      remedy: remedyFor(d, via),
    };
  });
}

/** What to check where the packet died: on the node where it stopped (into or out of the tunnel), or between the tunnel's ends. */
function remedyFor(d: Death, via: string): string[] {
  const [senderAddress, receiverAddress] = via.split(' ').slice(2).filter((w) => w !== '>');
  const overlayPorts = 'a swarm needs UDP 4789 (overlay data), TCP/UDP 7946 and TCP 2377 open between its nodes, in both directions';
  if (d.missingAt === null) {
    return [`the SYN reached ${d.seenAt} and nothing answered: on ${nodeOf(d.seenAt)}, check that the task listens and that its namespace's filter rules accept it (docker exec <task> ss -ltn)`];
  }
  if (d.missingAt === 'client') return [`the SYN-ACK left towards the client from ${d.seenAt}: check the path from ${nodeOf(d.seenAt)} back to the client`];
  const seenNode = nodeOf(d.seenAt);
  const missingNode = nodeOf(d.missingAt);
  if (seenNode !== missingNode) {
    // A capture sees a packet leave after the sender's own filter rules and arrive before the
    // receiver's (only XDP comes earlier): neither node's iptables lost this one.
    const [src, dst] = d.direction === 'syn' ? [senderAddress, receiverAddress] : [receiverAddress, senderAddress];
    const missingIface = d.missingAt.slice(0, d.missingAt.lastIndexOf('@'));
    return [
      `the VXLAN packets from ${seenNode} to ${missingNode} (UDP 4789, ${src} to ${dst}) left ${d.seenAt} and never reached ${d.missingAt}, where a capture sees them before ${missingNode}'s own firewall (and it reported no drops of its own): they are lost between the nodes. Allow UDP 4789 from ${src} to ${dst} in the security groups, firewalls or switch ACLs on the way (and check for an XDP program on ${missingNode}: ip -d link show ${missingIface})`,
      overlayPorts,
    ];
  }
  const [peer, replyTo] = [seenNode === nodeOf(d.path.hops[0]!.interface) ? receiverAddress : senderAddress, senderAddress];
  if (d.missingHop?.via !== undefined && d.seenHop.via === undefined) {
    return [
      `on ${seenNode}, the reply left ${d.seenAt} but was never sent over the overlay: check ${seenNode}'s filter rules for outgoing VXLAN (iptables -S OUTPUT; iptables -t raw -S; nft list ruleset), e.g. a rule dropping UDP 4789 to ${replyTo}`,
      overlayPorts,
    ];
  }
  if (d.seenHop.via !== undefined && d.missingHop?.via === undefined) {
    return [`on ${seenNode}, the reply came over the overlay on ${d.seenAt} but never reached ${d.missingAt}: check ${seenNode}'s filter rules for incoming UDP 4789 from ${peer} (iptables -S INPUT; nft list ruleset)`, overlayPorts];
  }
  return [`on ${seenNode}, the reply did not get from ${d.seenAt} to ${d.missingAt}: check ${seenNode}'s NAT and filter rules between them (iptables-save; conntrack -L)`];
}

/** "192.0.2.10" of "192.0.2.10:44378", "2001:db8::1" of "[2001:db8::1]:443". */
function clientAddress(endpoint: string): string {
  const bare = endpoint.slice(0, endpoint.lastIndexOf(':'));
  return bare.startsWith('[') ? bare.slice(1, -1) : bare;
}
