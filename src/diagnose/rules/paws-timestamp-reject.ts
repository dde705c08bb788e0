import type { KernelEvidence } from '../../evidence/kernel-evidence';
import { flowId } from '../../flow/flow';
import { counter } from '../context-facts';
import { BY_TIME_ONLY, counterRises, describeDrops, describeReasons, describeRises, dropsFollowSyns, dropsNearTimes, namespacesRead, type CounterRise, type DropsNearSyns } from '../kernel-facts';
import type { Confidence, Finding, Severity } from '../finding';
import { plural } from '../group';
import type { DiagnosisInput, PeerSyns } from '../input';
import { estimateClocks, type ClockEstimate } from '../timestamp-clocks';

/**
 * `paws-timestamp-reject`: the server drops SYNs from one address because their TCP
 * timestamp is older than one it remembers for that address (the tcp_tw_recycle rule).
 * The rule is replayed over the capture per (client address, server address).
 *
 * The kernel rule, Linux 3.5 to 4.11 with net.ipv4.tcp_tw_recycle=1 (read in a 4.9 tree):
 * - Remember. When a connection the server closed first goes to TIME-WAIT, tcp_time_wait()
 *   (net/ipv4/tcp_minisocks.c) calls tcp_remember_stamp() (net/ipv4/tcp_metrics.c) if the
 *   connection used timestamps. That stores the peer's last TSval seen (ts_recent) and the
 *   second it was seen (ts_recent_stamp) in the tcp_metrics entry of the (local address,
 *   peer address) pair, when `(s32)(tcpm_ts - ts_recent) <= 0` (the new value is not older)
 *   or the stored one is more than TCP_PAWS_MSL (60) seconds old and not newer.
 *   A connection the client closed first ends in TIME-WAIT on the client: nothing is stored.
 * - Check. tcp_conn_request() (net/ipv4/tcp_input.c), for a SYN that did not hit a TIME-WAIT
 *   socket of the same 4-tuple, calls tcp_peer_is_proven(req, dst, true, saw_tstamp), which
 *   refuses the SYN when `get_seconds() - tcpm_ts_stamp < TCP_PAWS_MSL` and
 *   `(s32)(tcpm_ts - req->ts_recent) > TCP_PAWS_WINDOW` (1), or the SYN has no timestamp.
 *   The SYN is then dropped without an answer (drop_and_release), counting
 *   LINUX_MIB_PAWSPASSIVEREJECTED (TcpExt.PAWSPassive) and, through tcp_listendrop(),
 *   TcpExt.ListenDrops.
 * tcp_tw_recycle was removed in Linux 4.12 (commit 4396e46187ca).
 *
 * The capture shows each attempt's first SYN (time, TSval) and, for a retransmitted one, the
 * time of the last SYN (an unanswered flow's last packet) or of the answer. TSvals of later
 * packets are extrapolated from the first SYN at the source's clock rate (see
 * timestamp-clocks.ts), which is exact enough: hosts behind one NAT differ by millions of
 * ticks, one host's connections by thousands.
 */
export function pawsTimestampRejectRule(input: DiagnosisInput): Finding[] {
  const findings: Finding[] = [];
  const facts = kernelFacts(input);
  for (const peer of input.peerSyns ?? []) {
    const replay = replayPeer(peer);
    if (fits(replay, facts)) findings.push(pawsFinding(peer, replay, facts, livePaws(input, peer, replay)));
  }
  return findings;
}

/**
 * The replay explains the silence: it explains at least as many unanswered attempts as it
 * leaves unexplained, and no answered attempt contradicts it. Unless the snapshot confirms
 * tcp_tw_recycle is on, a few coincidences must be ruled out: clients with random
 * per-connection offsets (current Linux) make any SYN older than the last closed connection
 * half the time, so it takes MIN_EXPLAINED_UNCONFIRMED explained attempts and clocks that
 * repeat across connections (the drops follow hosts, not connections).
 */
function fits(r: PawsReplay, k: KernelFacts): boolean {
  const explained = r.explained.length;
  if (explained === 0 || r.contradicting.length > 0 || explained < r.unexplained.length) return false;
  if (k.applies === true) return true;
  return explained >= MIN_EXPLAINED_UNCONFIRMED && !r.clocks.randomized && r.clocks.clocks < r.clocks.samples;
}

/** The kernel constants of the rule (include/net/tcp.h). */
const TCP_PAWS_MSL = 60;
const TCP_PAWS_WINDOW = 1;
/** As LATE_ANSWER_SECONDS: a SYN-ACK this long after the first SYN answered a retransmission. */
const RETRANSMISSION_ANSWERED = 0.9;
const EXAMPLES = 5;
/** Explained attempts needed when no snapshot confirms tcp_tw_recycle=1. */
const MIN_EXPLAINED_UNCONFIRMED = 3;

/** What the replay says about one address pair's attempts (flow ids). */
export interface PawsReplay {
  /** Unanswered attempts whose first and last SYN the rule drops. */
  explained: string[];
  /** Unanswered attempts with a SYN the rule lets through: something else dropped it. */
  unexplained: string[];
  /** Answered attempts whose answered SYN the rule would have dropped. */
  contradicting: string[];
  /** Answered attempts the rule lets through. */
  consistent: number;
  /** Connections the server closed first while timestamps were on (each updates the remembered TSval). */
  serverClosed: number;
  clocks: ClockEstimate;
}

type ReplayEvent =
  | { at: number; kind: 'syn'; tsVal: number; attempt: number; role: 'first' | 'last' | 'answered' }
  | { at: number; kind: 'remember'; tsVal: number };

/** Replays the remember/check rule over one pair's attempts in time order. */
export function replayPeer(peer: PeerSyns): PawsReplay {
  const n = peer.flow.length;
  const withTs: number[] = [];
  for (let i = 0; i < n; i++) if (peer.tsVal[i]! >= 0) withTs.push(i);
  const clocks = estimateClocks(withTs.map((i) => ({ at: peer.firstSynAt[i]!, tsVal: peer.tsVal[i]! })));
  const rate = clocks.randomized ? 1000 : (clocks.rateHz ?? 1000);
  // The TSval the client stamps `at` seconds into an attempt, from its first SYN.
  const tsAt = (i: number, at: number) => (peer.tsVal[i]! < 0 ? -1 : (peer.tsVal[i]! + Math.round(rate * (at - peer.firstSynAt[i]!))) >>> 0);

  const events: ReplayEvent[] = [];
  let serverClosed = 0;
  for (let i = 0; i < n; i++) {
    const first = peer.firstSynAt[i]!;
    const answered = peer.answeredAt[i]!;
    const last = peer.lastSeen[i]!;
    if (answered < 0) {
      events.push({ at: first, kind: 'syn', tsVal: tsAt(i, first), attempt: i, role: 'first' });
      if (peer.syns[i]! > 1) events.push({ at: last, kind: 'syn', tsVal: tsAt(i, last), attempt: i, role: 'last' });
    } else {
      const late = peer.syns[i]! > 1 && answered - first >= RETRANSMISSION_ANSWERED;
      const at = late ? answered : first;
      events.push({ at, kind: 'syn', tsVal: tsAt(i, at), attempt: i, role: 'answered' });
      // tcp_time_wait() remembers only when the connection saw timestamps (ts_recent_stamp != 0).
      if (peer.serverClosed[i] === 1 && peer.tsVal[i]! >= 0) {
        events.push({ at: last, kind: 'remember', tsVal: tsAt(i, last) });
        serverClosed++;
      }
    }
  }
  events.sort((a, b) => a.at - b.at);

  // The tcp_metrics entry of the pair: tcpm_ts and tcpm_ts_stamp (whole seconds, get_seconds());
  // null until the first remembered connection (the capture cannot show older state).
  let tm: { ts: number; stamp: number } | null = null;
  const dropped = new Map<number, boolean[]>();
  for (const e of events) {
    const now = Math.floor(e.at);
    if (e.kind === 'remember') {
      if (tm === null) tm = { ts: e.tsVal, stamp: now };
      else if (s32(tm.ts - e.tsVal) <= 0 || (now - tm.stamp > TCP_PAWS_MSL && tm.stamp <= now)) tm = { ts: e.tsVal, stamp: now };
      continue;
    }
    const drop = tm !== null && now - tm.stamp < TCP_PAWS_MSL && (e.tsVal < 0 || s32(tm.ts - e.tsVal) > TCP_PAWS_WINDOW);
    const verdicts = dropped.get(e.attempt) ?? [];
    verdicts.push(drop);
    dropped.set(e.attempt, verdicts);
  }

  const replay: PawsReplay = { explained: [], unexplained: [], contradicting: [], consistent: 0, serverClosed, clocks };
  for (let i = 0; i < n; i++) {
    const id = flowId(peer.flow[i]!);
    const verdicts = dropped.get(i)!;
    if (peer.answeredAt[i]! < 0) (verdicts.every((d) => d) ? replay.explained : replay.unexplained).push(id);
    else if (verdicts[0]) replay.contradicting.push(id);
    else replay.consistent++;
  }
  return replay;
}

/** Signed 32-bit difference, as the kernel's (s32) casts compute it. */
function s32(v: number): number {
  return v | 0;
}

/** What the host-context snapshot says about the rule. */
interface KernelFacts {
  /** The sysctl's value, "absent" when the kernel has none, null without a snapshot or when it was not read. */
  twRecycle: string | null;
  kernelRelease: string | null;
  pawsPassive: number | null;
  /** false when the snapshot rules the mechanism out, null when unknown. */
  applies: boolean | null;
}

/** Whether the snapshot rules the tcp_tw_recycle drop out (Linux 4.12 or later, or the sysctl 0). */
export function pawsRuledOut(input: DiagnosisInput): boolean {
  return kernelFacts(input).applies === false;
}

function kernelFacts(input: DiagnosisInput): KernelFacts {
  const ctx = input.context;
  if (ctx === null) return { twRecycle: null, kernelRelease: null, pawsPassive: null, applies: null };
  const value = ctx.sysctls['net.ipv4.tcp_tw_recycle'];
  const version = parseRelease(ctx.kernelRelease);
  const removed = version !== null && (version[0] > 4 || (version[0] === 4 && version[1] >= 12));
  const listedAbsent = ctx.unavailable.some((u) => u.source === 'sysctl net.ipv4.tcp_tw_recycle');
  const twRecycle = value !== undefined ? value : removed || listedAbsent ? 'absent' : null;
  const applies = twRecycle === null ? null : twRecycle !== 'absent' && twRecycle !== '0' && !removed;
  return { twRecycle, kernelRelease: ctx.kernelRelease, pawsPassive: counter(ctx, 'TcpExt.PAWSPassive'), applies };
}

/** [major, minor] of a `uname -r` release such as "4.4.0-142-generic", or null. */
export function parseRelease(release: string | null): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release ?? '');
  return m === null ? null : [Number(m[1]), Number(m[2])];
}

/** What the capture's window says: PAWSPassive's rise, and PAWS drops at the explained SYNs' times. */
interface LivePaws {
  kernel: KernelEvidence;
  rises: CounterRise[];
  drops: DropsNearSyns | null;
}

function livePaws(input: DiagnosisInput, peer: PeerSyns, r: PawsReplay): LivePaws | null {
  if (input.kernel == null) return null;
  const explained = new Set(r.explained);
  const times: number[] = [];
  for (let i = 0; i < peer.flow.length; i++) {
    if (!explained.has(flowId(peer.flow[i]!))) continue;
    times.push(peer.firstSynAt[i]!);
    if (peer.syns[i]! > 1 && peer.lastSeen[i]! > peer.firstSynAt[i]!) times.push(peer.lastSeen[i]!);
  }
  return {
    kernel: input.kernel,
    rises: counterRises(input.kernel, ['TcpExt.PAWSPassive']),
    drops: dropsNearTimes(input.kernel, times, ['TCP_RFC7323_PAWS', 'TCP_RFC7323_TW_PAWS']),
  };
}

function describeLivePaws(live: LivePaws): string {
  const parts: string[] = [];
  if (live.rises.length > 0) parts.push(`During the capture the kernel counted ${describeRises(live.rises)}. `);
  if (live.drops !== null) parts.push(`The kernel dropped ${describeDrops(live.drops, `as PAWS rejects (${describeReasons(live.drops)})`)}, ${BY_TIME_ONLY}. `);
  if (parts.length === 0 && live.kernel.counters.length > 0) {
    parts.push(`During the capture TcpExt.PAWSPassive did not rise in ${namespacesRead(live.kernel)} (the counter exists only before Linux 4.12), and no PAWS drop was traced at these SYNs. `);
  }
  return parts.join('');
}

function pawsFinding(peer: PeerSyns, r: PawsReplay, k: KernelFacts, live: LivePaws | null): Finding {
  const clocks = r.clocks;
  const hosts = clocks.randomized ? null : clocks.clocks;
  const unanswered = r.explained.length + r.unexplained.length;
  const severity: Severity = k.applies === false ? 'warning' : 'error';
  const liveConfirms = live !== null && (live.rises.length > 0 || dropsFollowSyns(live.drops));
  const confidence: Confidence = k.applies === false ? 'low' : liveConfirms || (k.applies === true && k.pawsPassive !== 0) ? 'high' : 'medium';
  const who =
    hosts === null
      ? `every connection from ${peer.client} shows a timestamp clock of its own (${plural(clocks.clocks, 'clock')} in ${plural(clocks.samples, 'SYN')}): per-connection random offsets (Linux 4.10 clients) or as many hosts as connections, so the number of hosts behind the address cannot be told. `
      : hosts > 1
        ? `The SYNs from ${peer.client} carry ${hosts} distinct timestamp clocks (${clocks.rateHz} Hz): ${hosts} hosts share that address, as behind a NAT (swarm ingress, docker SNAT, a load balancer), and their clocks disagree. `
        : `The SYNs from ${peer.client} show a single timestamp clock (${clocks.rateHz} Hz), yet some of them went back in time (a client reboot, or a clock that restarted). `;
  const context =
    k.applies === false
      ? k.twRecycle === '0'
        ? `But the snapshot says net.ipv4.tcp_tw_recycle = 0, so the rule cannot apply if the snapshot was taken on this server at the time. `
        : `But this kernel (${k.kernelRelease ?? 'unknown release'}) has no net.ipv4.tcp_tw_recycle (removed in Linux 4.12), so the rule cannot apply. What else can look like it: clients whose timestamp offsets change per connection, or PAWS against a TIME-WAIT socket of the same 4-tuple, which answers with an ACK rather than silence; otherwise the SYNs were filtered. `
      : k.applies === true
        ? `The snapshot confirms the mechanism: net.ipv4.tcp_tw_recycle = ${k.twRecycle} on ${k.kernelRelease ?? 'a kernel before 4.12'}` +
          (k.pawsPassive === null ? '. ' : k.pawsPassive > 0 ? `, TcpExt.PAWSPassive = ${k.pawsPassive}. ` : `, but TcpExt.PAWSPassive is 0: if the snapshot was taken on this server after the failures, the drops come from somewhere else. `)
        : k.twRecycle === null && k.kernelRelease !== null
          ? `The snapshot does not show net.ipv4.tcp_tw_recycle; check it on the server. `
          : 'Confirm on the server: sysctl net.ipv4.tcp_tw_recycle (exists only before Linux 4.12) and nstat -az TcpExtPAWSPassive. ';
  return {
    code: 'paws-timestamp-reject',
    severity,
    confidence,
    title: `${peer.server} drops SYNs from ${peer.client}: their TCP timestamps go backwards (tcp_tw_recycle)` + (hosts !== null && hosts > 1 ? `, ${hosts} hosts behind one address` : ''),
    explanation:
      `${plural(r.explained.length, 'unanswered attempt')} of ${unanswered} from ${peer.client} to ${peer.server} are exactly the ones the tcp_tw_recycle rule drops: ` +
      `with net.ipv4.tcp_tw_recycle=1 (kernels before 4.12) the server remembers the last TCP timestamp of each peer address whose connection it closed (${plural(r.serverClosed, 'such connection')} here) and, for 60 s, silently drops a SYN from that address whose timestamp is lower. ` +
      `None of the ${plural(r.consistent, 'answered attempt')} contradicts the replay${r.unexplained.length > 0 ? `; ${plural(r.unexplained.length, 'unanswered attempt')} it does not explain` : ''}. ` +
      who +
      context +
      (live === null ? '' : describeLivePaws(live)),
    evidence: {
      natAddress: peer.client,
      server: peer.server,
      hostsBehind: hosts,
      timestampClocks: clocks.clocks,
      clockRateHz: clocks.rateHz,
      clocksRandomized: clocks.randomized,
      explained: r.explained.length,
      unexplained: r.unexplained.length,
      contradicting: r.contradicting.length,
      answeredConsistent: r.consistent,
      serverClosedConnections: r.serverClosed,
      explainedExamples: r.explained.slice(0, EXAMPLES),
      unexplainedExamples: r.unexplained.slice(0, EXAMPLES),
      attemptsNotRecorded: peer.notRecorded,
      tcpTwRecycle: k.twRecycle,
      pawsPassive: k.pawsPassive,
      kernelRelease: k.kernelRelease,
      ruleApplies: k.applies,
      ...(live !== null && { kernelCounters: live.rises, kernelDrops: live.drops }),
    },
    flows: r.explained,
    remedy: [
      'Turn the rule off on the server: sysctl -w net.ipv4.tcp_tw_recycle=0, and persist it: echo "net.ipv4.tcp_tw_recycle = 0" > /etc/sysctl.d/90-tw-recycle.conf (also remove it from /etc/sysctl.conf if a tuning guide put it there).',
      'It must stay off on any server that clients reach through NAT: hosts behind one address (an office NAT, docker SNAT, swarm\'s ingress network, a load balancer) do not share a timestamp clock, so a SYN of one of them always looks older than another\'s last connection. Upgrading to Linux 4.12 or later removes the option.',
      'To relieve TIME-WAIT pressure without it: keep connections alive (HTTP keep-alive, connection pools), let the client side close first, or give the server more 4-tuples (ports, addresses); net.ipv4.tcp_tw_reuse helps outgoing connections only.',
      'Watch the drops stop: nstat -az TcpExtPAWSPassive should no longer rise while clients connect.',
    ],
  };
}
