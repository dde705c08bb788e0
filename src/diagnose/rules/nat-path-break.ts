import type { AttemptPath, Hop } from '../../flow/attempt-path';
import type { Finding } from '../finding';
import { distinct, groupBy, plural } from '../group';
import type { DiagnosisInput } from '../input';

/** Where a stitched attempt's packets stopped. */
interface PathBreak {
  attempt: AttemptPath;
  /** 'syn': the SYN reached the innermost captured hop and nothing came back from inside; 'syn-ack': the reply was seen inside and not outside. */
  direction: 'syn' | 'syn-ack';
  /** The last hop the packet was seen at. */
  seenAt: Hop;
  /** The next hop in its direction, where it was missing (null: past the captured hops). */
  missingAt: Hop | null;
}

/**
 * `nat-path-break`: an unanswered attempt seen at several hops (NAT stitching) whose SYN
 * was seen at one hop and nothing came back from the hop after it, or whose SYN-ACK was
 * seen inside and is missing outside. Attempts any of whose flows `explained` already
 * holds (a specific rule such as bridge-subnet-overlap named the cause) are left out.
 */
export function natPathBreakRule(input: DiagnosisInput, explained: ReadonlySet<string>): Finding[] {
  const breaks: PathBreak[] = [];
  for (const attempt of input.attempts ?? []) {
    if (attempt.outcome !== 'unanswered' || attempt.flows.some((id) => explained.has(id))) continue;
    const b = pathBreak(attempt);
    if (b !== null) breaks.push(b);
  }
  const keyOf = (b: PathBreak) => `${b.direction}|${b.seenAt.interface}|${b.missingAt?.interface ?? ''}|${b.attempt.hops[0]!.server}`;
  return [...groupBy(breaks, keyOf).values()].map(finding);
}

/** Where the attempt's path broke, or null when every hop saw both directions. */
function pathBreak(attempt: AttemptPath): PathBreak | null {
  const hops = attempt.hops;
  const answered = hops.findIndex((h) => h.synAcks > 0);
  if (answered < 0) return { attempt, direction: 'syn', seenAt: hops[hops.length - 1]!, missingAt: null };
  if (answered > 0) return { attempt, direction: 'syn-ack', seenAt: hops[answered]!, missingAt: hops[answered - 1]! };
  return null;
}

function finding(breaks: PathBreak[]): Finding {
  const first = breaks[0]!;
  const outer = first.attempt.hops[0]!;
  const service = outer.server;
  const clients = distinct(breaks.map((b) => hostOf(b.attempt.hops[0]!.client)), 20);
  const inner = first.seenAt;
  const evidence = {
    service,
    attempts: breaks.length,
    clients,
    direction: first.direction,
    seenAt: inner.interface,
    missingAt: first.missingAt?.interface ?? null,
    hops: first.attempt.hops,
    reached: first.attempt.reached,
    attemptIds: breaks.map((b) => b.attempt.id).slice(0, 20),
  };
  const flows = breaks.flatMap((b) => b.attempt.flows);
  if (first.direction === 'syn') {
    return {
      code: 'nat-path-break',
      severity: 'error',
      confidence: 'medium',
      title: `${plural(breaks.length, 'attempt')} to ${service} reached ${inner.interface} as ${inner.server} and got no answer from beyond it`,
      explanation:
        `The SYNs to ${service} were seen at every captured hop up to ${inner.interface}, translated (${inner.translation}) to ${inner.client} → ${inner.server}, and nothing came back: no SYN-ACK, RST or ICMP at any hop. ` +
        `The packet is lost between ${inner.interface} and the socket behind it (the container or ingress_sbox namespace, an IPVS backend or another node), or that hop's reply goes elsewhere.`,
      evidence,
      flows,
      remedy: [
        `Capture one hop further, inside the namespace that owns ${hostOf(inner.server)} (the container, or ingress_sbox for swarm ingress): synscope live -i eth0 -i ${inner.interface} plus a capture in that namespace.`,
        `Check that the translation is the expected one and its counters rise: iptables -t nat -L -v -n (DOCKER / DOCKER-INGRESS chains); conntrack -L -p tcp --orig-port-dst ${outer.server.replace(/^.*:/, '')}.`,
        `Check the route back to the client from that namespace: ip route get ${clients[0] ?? 'CLIENT'} from ${hostOf(inner.server)}.`,
      ],
    };
  }
  const missing = first.missingAt!;
  return {
    code: 'nat-path-break',
    severity: 'error',
    confidence: 'high',
    title: `${service} answered ${plural(breaks.length, 'attempt')} on ${inner.interface} but the SYN-ACKs never appeared on ${missing.interface}`,
    explanation:
      `The SYNs to ${service} reached ${inner.interface} (as ${inner.client} → ${inner.server}) and the SYN-ACKs were seen there, but they never left by ${missing.interface}: ` +
      'the reply was dropped or misrouted inside this host, after the SYN-ACK was sent and before the reverse translation put it on the outer interface (a reply route via another device, reverse-path filtering, a FORWARD rule, or a lost conntrack entry).',
    evidence,
    flows,
    remedy: [
      `Check where the host routes the reply: ip route get ${clients[0] ?? 'CLIENT'} from ${hostOf(inner.server)} iif ${inner.interface}.`,
      'Check the forward path and the NAT state: iptables -L FORWARD -v -n; iptables -L DOCKER-USER -v -n; conntrack -L -p tcp; sysctl net.ipv4.conf.all.rp_filter.',
    ],
  };
}

/** The address of an "ip:port" or "[ipv6]:port" endpoint. */
function hostOf(endpoint: string): string {
  return endpoint.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}
