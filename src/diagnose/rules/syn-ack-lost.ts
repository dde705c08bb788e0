import type { Flow } from '../../flow/flow';
import type { Finding } from '../finding';
import type { HostContext, NetInterface } from '../../context/host-context';
import { contextInterface, isLocalAddress } from '../context-facts';
import { canonicalAddress } from '../../context/canonical';
import { replyToHost, type ReplyToHost } from '../reply-to-host';
import { attemptCount, attemptHops, distinct, groupBy, plural, serviceOf } from '../group';
import type { DiagnosisInput } from '../input';
import { synAckRetransmitsOf } from '../kernel-facts';
import { ingressClient, type IngressClient } from '../ingress-client';

/** `syn-ack-lost`: the server answered but the client never got it and kept retransmitting its SYN. */
export function synAckLostRule(input: DiagnosisInput): Finding[] {
  // One finding per attempt as the client made it: its NAT hops (the container's leg) go with it.
  const hops = attemptHops(input);
  const lost = input.failedFlows.filter((f) => f.outcome === 'synAckLost' && !hops.isInner(f.id));
  const findings: Finding[] = [];
  for (const flows of groupBy(lost, serviceOf).values()) {
    const first = flows[0]!;
    const service = serviceOf(first);
    const clients = distinct(flows.map((f) => f.clientIp));
    const interfaces = distinct(flows.flatMap((f) => f.interfaces.map((i) => input.interfaceNames[i] ?? `#${i}`)));
    const retransmits = input.kernel == null ? null : synAckRetransmitsOf(input.kernel, flows);
    const cameBackBy = returnedToHost(input, flows);
    const here = cameBackBy === null ? null : replyToHost(input, first, cameBackBy);
    const leftBy = cameBackBy === null ? leftHostBy(input, flows) : null;
    const attempts = attemptCount(flows, input);
    // Past ingress_sbox every client of a published port is its address: the real clients are behind it.
    const ingress = clients.every((c) => ingressClient(input.context, c) !== null) ? ingressClient(input.context, clients[0]!) : null;
    const text =
      here !== null
        ? droppedHere(service, attempts, cameBackBy!, first, here)
        : leftBy !== null
          ? lostBeyond(service, attempts, leftBy, clients[0]!, first)
          : ingress !== null
            ? lostBehindIngress(service, attempts, clients[0]!, ingress)
            : lostOnTheWay(service, attempts, clients[0]!, first.serverIp);
    findings.push({
      code: 'syn-ack-lost',
      severity: 'error',
      confidence: here === null ? 'high' : 'medium',
      title: text.title,
      explanation:
        text.explanation +
        (retransmits === null
          ? ''
          : ` The kernel on this host retransmitted ${plural(retransmits.retransmits, 'SYN-ACK')} for ${retransmits.attempts} of these attempts (tcp_retransmit_synack, matched by addresses and ports): the server is here and never got the handshake's ACK.`),
      evidence: {
        service,
        attempts,
        clients,
        synAcksSent: flows.reduce((n, f) => n + f.synAcks, 0),
        clientSynRetransmissions: flows.reduce((n, f) => n + Math.max(0, f.syns - 1), 0),
        seenOn: interfaces,
        ...(input.kernel != null && { kernelSynAckRetransmits: retransmits }),
        ...(leftBy !== null && { leftBy }),
        ...(ingress !== null && leftBy === null && here === null && { ingressSnat: ingress.thisNode ? 'this node\'s ingress_sbox' : 'another node\'s ingress_sbox' }),
        ...(here !== null && { cameBackBy, clientIsThisHost: true, inputDrop: here.inputDrop, forwardDrops: here.forwardDrops }),
      },
      flows: flows.flatMap((f) => hops.hopsOf(f.id)),
      remedy: text.remedy,
    });
  }
  return findings;
}

interface Text {
  title: string;
  explanation: string;
  remedy: string[];
}

/** The SYN-ACKs left the host the way the SYNs came in: lost beyond it. */
function lostBeyond(service: string, attempts: number, leftBy: string, client: string, first: Flow): Text {
  return {
    title: `${service} answered ${plural(attempts, 'attempt')}, the SYN-ACKs left this host by ${leftBy}, and the clients never got them`,
    explanation:
      `${service} sent SYN-ACKs and they left this host by ${leftBy}, the way the SYNs came in (a capture sees a packet leave after the host's own routing and firewall), yet the clients kept retransmitting the same SYN: the replies are lost beyond this host, between ${leftBy} and the clients. ` +
      'Typical causes: a stateful firewall, security group or NAT on the way that did not see the SYN (the SYNs come in by another path than the replies take) and drops a SYN-ACK it holds no state for, or a route toward the clients that ends elsewhere.',
    remedy: [
      `Look beyond this host, on the way from ${leftBy} to ${client}: the firewalls, security groups, NAT gateways and routers the replies cross; one that did not see the SYN (asymmetric routing) drops the SYN-ACK. From this host, traceroute -n ${client} shows the path the replies take.`,
      `Capture at the client, or the last hop before it, to see whether the SYN-ACKs arrive there: tcpdump -ni any 'tcp and host ${first.serverIp} and port ${first.serverPort}'.`,
    ],
  };
}

/** The client is this host: the SYN-ACKs came back by `iface` and were dropped here, by INPUT or on the way to a container. */
function droppedHere(service: string, attempts: number, iface: string, first: Flow, here: ReplyToHost): Text {
  const client = first.clientIp;
  const forward = here.forwardDrops.map((d) => `for a container on ${d.bridge}, \`${d.rule}\``).join('; ');
  const dockerUser = here.forwardDrops.find((d) => d.rule.startsWith('-A DOCKER-USER '));
  return {
    title: `${service} answered ${plural(attempts, 'attempt')} from this host's own address ${client}, and the SYN-ACKs that came back by ${iface} were never taken`,
    explanation:
      `The client, ${client}, is this host's own address: the SYNs left by ${iface} and the SYN-ACKs came back by it, yet the same SYN kept being retransmitted, so the replies were dropped here, not on the way. ` +
      `Either a process on this host made the connection and the INPUT rules drop the replies, or a container did (Docker masquerades its connections to this address) and the forward path to its bridge drops them; a capture of the bridges too tells which. ` +
      (here.inputDrop === null && forward === ''
        ? `The snapshot's rules name no drop for either.`
        : `The snapshot's rules would drop them: ${[...(here.inputDrop === null ? [] : [`for a process here, \`${here.inputDrop}\` in INPUT`]), ...(forward === '' ? [] : [forward])].join('; ')}.`),
    remedy: [
      `Capture the bridges too, to see whose connection it is: synscope live -i ${iface} -i docker0 (and the other bridges); the finding then names the hop where the SYN-ACKs stop.`,
      ...(dockerUser === undefined
        ? []
        : [`If it is a container's: a DOCKER-USER rule comes before Docker's own accept of replies, so let them through first: iptables -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT (\`${dockerUser.rule}\` still drops new connections).`]),
      `If it is this host's own: iptables -L INPUT -v -n --line-numbers shows the rule whose counter rises while it retries; replies need -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT before it.`,
    ],
  };
}

/** The clients are swarm's ingress NAT: the SYN-ACKs reached ingress_sbox and were lost on the way back to the real clients. */
function lostBehindIngress(service: string, attempts: number, client: string, ingress: IngressClient): Text {
  const sbox = ingress.thisNode ? "this node's ingress_sbox" : "another node's ingress_sbox (no endpoint here holds it)";
  return {
    title: `${service} answered ${plural(attempts, 'attempt')} that came through swarm's ingress (${client}), but the SYN-ACKs never reached the clients behind it`,
    explanation:
      `${client} is no client: it is ${sbox}, on swarm's ingress network ${ingress.network} (${ingress.subnet}). The clients came in by a port the swarm publishes (mode ingress), and ingress_sbox rewrote their source to its own address before handing the SYNs to the task. ` +
      `${service} answered, yet the same SYNs kept coming: the replies were lost on the way back, in ingress_sbox's reverse translation or after it, between docker_gwbridge and the clients.`,
    remedy: [
      `Capture where the real clients show, on the node that published the port: synscope live -i eth0 -i docker_gwbridge (with ingress_sbox's legs); the finding then names the clients and the hop where the SYN-ACKs stop.`,
      `A docker_gwbridge subnet that holds the clients' addresses sends the replies into the bridge instead of to them: compare the clients with docker network inspect docker_gwbridge --format '{{(index .IPAM.Config 0).Subnet}}'.`,
    ],
  };
}

/** Where the SYN-ACKs went after this capture point is not known: the host may still have misrouted them. */
function lostOnTheWay(service: string, attempts: number, client: string, serverIp: string): Text {
  return {
    title: `${service} answered ${plural(attempts, 'attempt')} but the SYN-ACKs never reached the clients`,
    explanation:
      `${service} sent SYN-ACKs, yet the clients kept retransmitting the same SYN, so the replies were lost between this capture point and the clients. ` +
      'Typical causes: the reply is routed out of another interface (a bridge subnet or route that contains the clients), reverse-path filtering, or a stateful firewall on the return path.',
    remedy: [
      `Ask the kernel where replies to a client go: ip route get ${client} from ${serverIp}. If it names a bridge (docker0, docker_gwbridge, br-...) instead of the uplink, the bridge subnet overlaps the clients.`,
      'Capture on the next hop toward the clients (the uplink, or the client itself) to see where the SYN-ACK stops: synscope live -i <uplink>.',
      'Check reverse-path filtering and conntrack on the return path: sysctl net.ipv4.conf.all.rp_filter; conntrack -S (look at invalid/drop).',
    ],
  };
}

/**
 * The interface by which the SYN-ACKs came back to this host, when every client is one of the
 * host's own addresses and the flows were seen on one interface that is no bridge or bridge
 * port (the uplink); null otherwise.
 */
function returnedToHost(input: DiagnosisInput, flows: readonly Flow[]): string | null {
  const ctx = input.context;
  if (ctx === null || !flows.every((f) => isLocalAddress(ctx, f.clientIp))) return null;
  const name = singleInterface(input, flows);
  if (name === null) return null;
  // A file that merges the interfaces (or a cooked v1 "any") names none of them: then the interface holding the address.
  const merged = input.capture.mergedHops !== undefined || name === 'any';
  const iface = contextInterface(ctx, name) ?? (merged ? holderForUnknown(ctx, name, flows) : undefined);
  if (iface === undefined || iface.kind === 'bridge' || iface.master !== null) return null;
  return iface.name;
}

/**
 * For a capture interface that merges the host's interfaces (a pcapng rewritten as classic
 * pcap, a cooked v1 "any"), the interface that holds every client's address: the answers to
 * this host's own address come in there. Not for another namespace's interface (eth0@ingress_sbox).
 */
function holderForUnknown(ctx: HostContext, name: string, flows: readonly Flow[]): NetInterface | undefined {
  if (name.includes('@')) return undefined;
  const same = (a: string, b: string) => {
    const ca = canonicalAddress(a);
    return ca !== null && ca.text === canonicalAddress(b)?.text;
  };
  const holders = distinct(flows.map((f) => ctx.interfaces.find((i) => i.addresses.some((a) => same(a.address, f.clientIp)))?.name ?? ''));
  return holders.length === 1 && holders[0] !== '' ? contextInterface(ctx, holders[0]!) : undefined;
}

/** The one interface the flows were seen on ("any" for a cooked v1 capture's), or null. */
function singleInterface(input: DiagnosisInput, flows: readonly Flow[]): string | null {
  const names = distinct(flows.flatMap((f) => f.interfaces.map((i) => input.interfaceNames[i] ?? '')));
  return names.length === 1 && names[0] !== '' ? names[0]! : null;
}

/**
 * The interface the SYN-ACKs were seen leaving by, when that is the way out of the host: the
 * flows were seen on one interface only, the one their SYNs came in on, and it is no bridge
 * or bridge port (where a reply can still be misrouted inside the host). Null otherwise.
 */
function leftHostBy(input: DiagnosisInput, flows: readonly Flow[]): string | null {
  const name = singleInterface(input, flows);
  if (name === null || name === 'any' || flows.some((f) => f.synAcks === 0)) return null;
  const bridges = new Set(input.bridges.map((b) => b.name));
  const iface = input.context === null ? undefined : contextInterface(input.context, name);
  // With a snapshot, an interface it does not list is another namespace's (eth0@ingress_sbox): not a way out of the host.
  if (input.context !== null && iface === undefined) return null;
  if (bridges.has(name) || iface?.kind === 'bridge' || (iface?.master ?? null) !== null) return null;
  return name;
}
