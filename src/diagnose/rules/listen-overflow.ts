import type { KernelEvidence } from '../../evidence/kernel-evidence';
import type { Flow } from '../../flow/flow';
import { counter } from '../context-facts';
import { counterRises, countersRead, describeRises, dropsOf, namespaceOwning, namespacesRead, type CounterRise } from '../kernel-facts';
import type { CounterDeltas } from '../../evidence/kernel-evidence';
import type { Finding } from '../finding';
import { attemptCount, attemptHops, distinct, groupBy, plural, serviceOf } from '../group';
import { LATE_ANSWER_SECONDS, type DiagnosisInput } from '../input';
import { isLocalAddress } from '../context-facts';
import { holderOf } from '../docker-holder';

/** Docker's own sandboxes, which forward (ingress_sbox: IPVS) or carry a task's gateway leg, and are no container to nsenter by name. */
function isDockerSandbox(holder: string): boolean {
  return holder === 'ingress_sbox' || holder.startsWith('gateway_') || holder.startsWith('lb-');
}

/**
 * `listen-overflow`: a service that completes handshakes with some clients and ignores
 * others' SYNs, while SYN retransmissions get answered late. This is a full accept queue:
 * tcp_conn_request (net/ipv4/tcp_input.c, Linux 4.x-6.x) drops a SYN silently while
 * sk_acceptq_is_full() and counts TcpExt.ListenOverflows and ListenDrops; the client
 * retransmits after 1 s, 3 s, 7 s..., and a retransmission that arrives once the
 * application has accept()ed enough connections is answered. The counters, when the
 * snapshot has them, confirm it; their rise during a live capture confirms it best.
 * Such a SYN leaves no kfree_skb: tcp_rcv_state_process consumes it once conn_request
 * has returned (seen on Linux 6.18). A TCP_LISTEN_OVERFLOW drop is the other half: the
 * handshake's last ACK finding the queue full (tcp_check_req).
 */
export function listenOverflowRule(input: DiagnosisInput, completedByService: ReadonlyMap<string, number>): Finding[] {
  const late = groupBy((input.lateAnsweredFlows ?? []).filter(isLateAnswer), serviceOf);
  const overflows = counter(input.context, 'TcpExt.ListenOverflows');
  const drops = counter(input.context, 'TcpExt.ListenDrops');
  const live = liveQueueFacts(input.kernel);
  const hops = attemptHops(input);
  const byId = new Map(input.failedFlows.map((f) => [f.id, f] as const));
  const unanswered = input.failedFlows.filter((f) => f.outcome === 'unanswered' && !hops.isInner(f.id));
  const findings: Finding[] = [];
  // One finding per service as the clients dialed it; the listener is where its NAT hops end.
  for (const [service, flows] of groupBy(unanswered, serviceOf)) {
    // A flow a flood left out of its group's sample has no stitched attempt: take one that has.
    const outer = flows.find((f) => hops.attemptOf(f.id) !== undefined) ?? flows[0]!;
    const listenerFlow = byId.get(hops.hopsOf(outer.id).at(-1)!) ?? outer;
    const listener = serviceOf(listenerFlow);
    const answered = completedByService.get(service) ?? completedByService.get(listener) ?? 0;
    const lateFlows = late.get(service) ?? late.get(listener) ?? [];
    // A listener at an address the snapshot's namespace does not own (behind DNAT, in a
    // container) has its own network namespace: the counters read here do not count its drops.
    // A snapshot without addresses (its `ip` failed) cannot tell.
    const elsewhere = input.context !== null && input.context.interfaces.some((i) => i.addresses.length > 0) && !isLocalAddress(input.context, listenerFlow.serverIp);
    const holder = elsewhere ? holderOf(input.context!, listenerFlow.serverIp) : null;
    const container = holder !== null && !isDockerSandbox(holder) ? holder : null;
    // Live, the listener's own namespace was read too when a process holds it (a container's).
    const inside = elsewhere ? namespaceOwning(input.kernel, listenerFlow.serverIp) : null;
    const insideRose = inside !== null && QUEUE_FULL_COUNTERS.some((c) => (inside.deltas[c] ?? 0) > 0);
    const countersKnown = elsewhere ? inside !== null : live !== null || overflows !== null || drops !== null;
    const countersRose = elsewhere ? insideRose : live !== null ? live.rose : (overflows ?? 0) > 0 || (drops ?? 0) > 0;
    const confirmed = elsewhere ? insideRose : live?.rose === true;
    if (answered === 0 || (lateFlows.length === 0 && !countersRose)) continue;
    const delays = lateFlows.map((f) => f.firstSynAckAt! - f.firstSynAt!).sort((a, b) => a - b);
    const port = listenerFlow.serverPort;
    const inContainer = container === null ? null : `nsenter -t $(docker inspect -f '{{.State.Pid}}' ${container}) -n`;
    findings.push({
      code: 'listen-overflow',
      severity: 'error',
      confidence: (countersKnown && confirmed) || (lateFlows.length > 0 && countersRose) ? 'high' : lateFlows.length > 0 && countersKnown ? 'low' : 'medium',
      title: `${service} drops SYNs while it answers others: ${container !== null ? `the accept queue of its listener ${listener} in container ${container}` : elsewhere ? `the accept queue of its listener ${listener}` : 'its accept queue'} overflows`,
      explanation:
        `${service} completed ${plural(answered, 'handshake')} but left ${plural(attemptCount(flows, input), 'attempt')} unanswered` +
        (lateFlows.length > 0
          ? `, and answered ${plural(lateFlows.length, 'other attempt')} only after the client retransmitted its SYN (${formatDelay(delays[0]!)} to ${formatDelay(delays[delays.length - 1]!)} late). `
          : '. ') +
        'A listening socket whose accept queue is full drops new SYNs without a word until the application accept()s, so some clients get through on a retransmission and others give up. ' +
        (elsewhere
          ? `The listener is ${listener}${container !== null ? ` in container ${container}` : holder !== null ? ` behind ${holder}` : ''}, not an address of this namespace (the SYNs were translated to it)` +
            (inside === null ? ": its own network namespace's TcpExt.ListenOverflows and ListenDrops count these drops; the counters read here do not." : `. ${describeInside(inside, insideRose)}`)
          : live !== null
            ? describeLive(live)
            : countersRose
              ? `The kernel counted it: TcpExt.ListenOverflows ${overflows ?? 'unknown'}, TcpExt.ListenDrops ${drops ?? 'unknown'}.`
              : countersKnown
                ? 'But TcpExt.ListenOverflows and ListenDrops are 0 in the snapshot: if the snapshot was taken on the server while this happened, the drops come from somewhere else.'
                : 'Confirm with the server\'s counters (nstat -az TcpExtListenOverflows TcpExtListenDrops).'),
      evidence: {
        service,
        ...(elsewhere && { listener, ...(container !== null && { container }) }),
        ...(inside !== null && { listenerNamespace: inside.namespace, listenerCounters: queueDeltas(inside) }),
        unanswered: attemptCount(flows, input),
        answered,
        lateAnswered: lateFlows.length,
        lateAnswerDelaysSeconds: delays.slice(0, 10).map((d) => Math.round(d * 1000) / 1000),
        lateAnsweredExamples: lateFlows.slice(0, 5).map((f) => f.id),
        clients: distinct(flows.map((f) => f.clientIp), 20),
        peakAttemptsPerSecond: peakPerSecond([...flows, ...lateFlows]),
        // This namespace's counters and caps: the listener's own are elsewhere.
        ...(!elsewhere && {
          listenOverflows: overflows,
          listenDrops: drops,
          reqQFullDrop: counter(input.context, 'TcpExt.TCPReqQFullDrop'),
          somaxconn: input.context?.sysctls['net.core.somaxconn'] ?? null,
          tcpMaxSynBacklog: input.context?.sysctls['net.ipv4.tcp_max_syn_backlog'] ?? null,
          ...(input.kernel != null && { kernelCounters: live?.rises ?? [], kernelListenOverflowDrops: live?.overflowDrops ?? 0 }),
        }),
      },
      flows: flows.flatMap((f) => hops.hopsOf(f.id)),
      remedy:
        !elsewhere
          ? [
              `See the queue on the server: ss -ltn 'sport = :${port}' (Recv-Q = connections waiting for accept(), Send-Q = the backlog); nstat -az TcpExtListenOverflows TcpExtListenDrops rising while clients retry confirms it.`,
              ACCEPT_FASTER,
              'Raise the kernel caps the backlog is clipped to: sysctl -w net.core.somaxconn=4096 and sysctl -w net.ipv4.tcp_max_syn_backlog=8192 (persist in /etc/sysctl.d/); in a container they are per network namespace: docker run --sysctl net.core.somaxconn=4096. The application must listen() again (restart) to get the larger queue.',
            ]
          : [
              inContainer !== null
                ? `See the queue in container ${container}'s network namespace (the host's ss and nstat show docker-proxy and the host, not the container): ${inContainer} ss -ltn 'sport = :${port}' (Recv-Q = connections waiting for accept(), Send-Q = the backlog); ${inContainer} nstat -az TcpExtListenOverflows TcpExtListenDrops rising while clients retry confirms it.`
                : `See the queue where ${listenerFlow.serverIp} listens (the container or task the SYNs were translated to; on another node for swarm ingress): nsenter -t $(docker inspect -f '{{.State.Pid}}' CONTAINER) -n ss -ltn 'sport = :${port}' (Recv-Q = connections waiting for accept(), Send-Q = the backlog), and its nstat -az TcpExtListenOverflows TcpExtListenDrops.`,
              ACCEPT_FASTER,
              `If the backlog the application asks for is larger than the container's caps, raise them for the container (they are per network namespace; the host's sysctl does not reach it): docker run --sysctl net.core.somaxconn=4096 --sysctl net.ipv4.tcp_max_syn_backlog=8192 (compose: sysctls:), then restart the application so that it listen()s again.`,
            ],
    });
  }
  return findings;
}

const ACCEPT_FASTER =
  'Make the application accept() faster (more acceptor threads or workers, no blocking work before accept) and give it a larger backlog: the listen() backlog argument or the server\'s setting (nginx "listen ... backlog=4096", Redis tcp-backlog, Java ServerSocket backlog / server.tomcat.accept-count).';

/** Counters that rise when a listener's queues overflow. */
const QUEUE_COUNTERS = ['TcpExt.ListenOverflows', 'TcpExt.ListenDrops', 'TcpExt.TCPReqQFullDrop'];

/** What the capture's window says about the listen queues; null when the kernel evidence says nothing (no counters, no drops). */
interface LiveQueueFacts {
  kernel: KernelEvidence;
  rises: CounterRise[];
  overflowDrops: number;
  rose: boolean;
}

/**
 * ListenDrops alone is not a full queue: tcp_conn_request's drop path counts it for any
 * SYN it gives up on (a SYN-ACK that cannot be routed or sent, a PAWS reject), so only
 * ListenOverflows, TCPReqQFullDrop or TCP_LISTEN_OVERFLOW drops say "queue full".
 */
const QUEUE_FULL_COUNTERS = ['TcpExt.ListenOverflows', 'TcpExt.TCPReqQFullDrop'];

function liveQueueFacts(kernel: KernelEvidence | null | undefined): LiveQueueFacts | null {
  if (kernel == null) return null;
  const rises = counterRises(kernel, QUEUE_COUNTERS);
  const overflowDrops = dropsOf(kernel, ['TCP_LISTEN_OVERFLOW']).length;
  if (!countersRead(kernel) && overflowDrops === 0) return null;
  const queueFull = rises.some((r) => QUEUE_FULL_COUNTERS.includes(r.counter));
  return { kernel, rises, overflowDrops, rose: queueFull || overflowDrops > 0 };
}

function describeLive(live: LiveQueueFacts): string {
  if (!live.rose) {
    return `But during the capture TcpExt.ListenOverflows, ListenDrops and TCPReqQFullDrop did not rise in ${namespacesRead(live.kernel)}: if the server runs there, the drops come from somewhere else.`;
  }
  const parts: string[] = [];
  if (live.rises.length > 0) parts.push(describeRises(live.rises));
  if (live.overflowDrops > 0) parts.push(`${plural(live.overflowDrops, 'handshake ACK')} dropped as TCP_LISTEN_OVERFLOW`);
  return `During the capture the kernel counted it: ${parts.join('; ')}.`;
}

/** The listener's namespace's queue counters that changed during the capture. */
function queueDeltas(inside: CounterDeltas): Record<string, number> {
  return Object.fromEntries(QUEUE_COUNTERS.filter((c) => inside.deltas[c] !== undefined).map((c) => [c, inside.deltas[c]!]));
}

function describeInside(inside: CounterDeltas, rose: boolean): string {
  const where = inside.namespace.startsWith('pid:') ? `its network namespace (read through ${inside.namespace})` : `its network namespace ${inside.namespace}`;
  if (!rose) return `But during the capture TcpExt.ListenOverflows and TCPReqQFullDrop did not rise in ${where}: the drops come from somewhere else.`;
  const rises = Object.entries(queueDeltas(inside)).filter(([, d]) => d > 0).map(([c, d]) => `${c} +${d}`);
  return `During the capture the kernel counted it in ${where}: ${rises.join(', ')}.`;
}

function isLateAnswer(f: Flow): boolean {
  return f.syns > 1 && f.firstSynAt !== null && f.firstSynAckAt !== null && f.firstSynAckAt - f.firstSynAt >= LATE_ANSWER_SECONDS;
}

function formatDelay(s: number): string {
  return `${s.toFixed(1)} s`;
}

/** The most first SYNs within any one-second window. */
function peakPerSecond(flows: readonly Flow[]): number {
  const t = flows.map((f) => f.firstSynAt ?? f.firstSeen).sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= 1) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}
