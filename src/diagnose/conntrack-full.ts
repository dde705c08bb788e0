import { MAX_SOURCES, type ConntrackHolder, type ConntrackTable } from '../evidence/conntrack-table';
import type { CounterDeltas, KernelEvidence } from '../evidence/kernel-evidence';
import type { Flow } from '../flow/flow';
import { holderOf } from './docker-holder';
import type { DropCause } from './drop-cause';
import type { Confidence, Finding } from './finding';
import { groupBy, plural, serviceOf, synCount } from './group';
import type { DiagnosisInput } from './input';

/** A snapshot this full counts as full: entries expire and new ones take their place, so a full table hovers just under its limit. */
const FULL = 0.99;
/** A group of entries holding this share of the table is named as what fills it. */
const DOMINANT = 0.5;
const DROP_COUNTER = 'Conntrack.Drop';

/** What `filtered` says of SYNs a full connection-tracking table dropped, and how sure it is. */
export interface ConntrackFull extends DropCause {
  confidence: Confidence;
}

/**
 * Silent SYNs the host's connection-tracking table had no room for. A new connection needs an
 * entry before NAT or any filter rule sees it; when the table holds nf_conntrack_max entries
 * and none can be evicted (only entries not yet ASSURED can), the kernel drops the packet and
 * says so only in its log. Sure when a live window saw the namespace's Conntrack.Drop counter
 * rise by at least these flows' SYNs; likely when only a snapshot shows the table full. Null
 * otherwise.
 */
export function conntrackFull(input: DiagnosisInput, flows: readonly Flow[]): ConntrackFull | null {
  const syns = synCount(flows, input);
  const live = liveDrops(input);
  if (live !== null) {
    if (live.drops < syns) return null;
    const table = live.table ?? input.context?.conntrack ?? null;
    const sentence =
      `The connection-tracking table of ${live.namespace} was full: its drop counter (${DROP_COUNTER}, packets dropped for want of a free entry) rose by ${live.drops} during the capture while these ${plural(syns, 'SYN')} went unanswered` +
      (table === null ? '.' : `, and at the window's end it held ${table.count} entries of the ${table.max} nf_conntrack_max allows.`);
    return cause(input, table, sentence, { conntrackDrops: live.drops, conntrackNamespace: live.namespace }, 'high');
  }
  const table = input.context?.conntrack ?? null;
  if (table === null || table.max <= 0 || table.count < table.max * FULL) return null;
  const sentence = `The snapshot shows this host's connection-tracking table full: ${table.count} entries of the ${table.max} nf_conntrack_max allows (no live counters say whether it dropped these SYNs; conntrack -S shows the drops).`;
  return cause(input, table, sentence, {}, 'medium');
}

/** The silent flows, not `explained`, whose SYNs a full table dropped (per service, as `filtered` groups them): they vanished before NAT, so no hop after it is to blame. */
export function conntrackFullFlows(input: DiagnosisInput, explained: ReadonlySet<string>): string[] {
  const silent = input.failedFlows.filter((f) => f.outcome === 'unanswered' && !explained.has(f.id));
  return [...groupBy(silent, serviceOf).values()].filter((flows) => conntrackFull(input, flows) !== null).flatMap((flows) => flows.map((f) => f.id));
}

/** The rise of Conntrack.Drop in the one namespace of the live window where it rose, with its table at the window's end. */
function liveDrops(input: DiagnosisInput): { namespace: string; drops: number; table: ConntrackTable | null } | null {
  const rising = droppingNamespaces(input.kernel);
  const here = rising.length === 1 ? rising[0] : rising.find((c) => c.namespace === input.context?.namespace);
  return here === undefined ? null : { namespace: here.namespace, drops: here.deltas[DROP_COUNTER]!, table: here.conntrack ?? null };
}

function cause(input: DiagnosisInput, table: ConntrackTable | null, sentence: string, evidence: Record<string, unknown>, confidence: Confidence): ConntrackFull {
  const holder = table === null ? null : dominantHolder(table);
  const sentences = [
    sentence,
    'A new connection needs an entry there before NAT or any filter rule sees it; with none free and none the kernel may evict (it evicts only entries not yet ASSURED), it drops the SYN ("nf_conntrack: table full, dropping packet" in its log) and the client hears nothing.',
  ];
  if (holder !== null) sentences.push(`Most of the table is one kind of entry: ${holder.entries} of ${table!.count} are ${holderKind(holder)} connections to port ${holder.destinationPort} ${holderSources(input, holder)}.`);
  const max = table?.max ?? null;
  const raised = max === null ? null : max * 2;
  const remedy = [
    raised === null
      ? 'Raise the limit (one for the whole host; each entry takes about 300 bytes of kernel memory): sysctl net.netfilter.nf_conntrack_max shows it, sysctl -w net.netfilter.nf_conntrack_max=N sets it.'
      : `Make room at once by raising the limit (one for the whole host, taking effect immediately; each entry takes about 300 bytes of kernel memory): sysctl -w net.netfilter.nf_conntrack_max=${raised}; keep it across reboots with echo 'net.netfilter.nf_conntrack_max = ${raised}' > /etc/sysctl.d/90-conntrack.conf.`,
    holder === null
      ? "List what fills the table, largest groups first: conntrack -L 2>/dev/null | awk '{print $1, $4, $5, $8}' | sort | uniq -c | sort -rn | head."
      : deleteRemedy(input, holder),
  ];
  if (holder?.state === 'ESTABLISHED') {
    remedy.push(
      "Keep idle connections from holding the table for five days (nf_conntrack_tcp_timeout_established's default, 432000 s; entries take the value when they see a packet): sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=86400.",
    );
  } else if (holder?.state === 'TIME_WAIT') {
    remedy.push(
      "Let closed connections leave the table sooner (nf_conntrack_tcp_timeout_time_wait's default is 120 s, twice TCP's own TIME-WAIT; new entries take the value): sysctl -w net.netfilter.nf_conntrack_tcp_timeout_time_wait=60.",
    );
  }
  return {
    because: 'the connection-tracking table was full',
    sentences,
    evidence: {
      ...evidence,
      droppedBy: 'conntrack-table-full',
      ...(table !== null && { conntrackCount: table.count, conntrackMax: table.max }),
      ...(holder !== null && { conntrackHolder: holder }),
    },
    remedy,
    confidence,
  };
}

function dominantHolder(table: ConntrackTable): ConntrackHolder | null {
  const top = table.holders?.[0];
  return top !== undefined && top.entries >= table.count * DOMINANT ? top : null;
}

/** "ESTABLISHED TCP", "UDP". */
function holderKind(h: ConntrackHolder): string {
  return `${h.state === '' ? '' : `${h.state} `}${h.protocol.toUpperCase()}`;
}

/** The source holding most of the group's entries, or null when they are spread. */
function mainSource(h: ConntrackHolder): string | null {
  return h.topSourceEntries >= h.entries * DOMINANT ? h.topSource : null;
}

/** "from 172.17.0.2 (container web)", "from 5 addresses, the most from 192.0.2.100 (60000)". */
function holderSources(input: DiagnosisInput, h: ConntrackHolder): string {
  const main = mainSource(h);
  if (main !== null) return `from ${sourceName(input, main)}${h.topSourceEntries < h.entries ? ` (${h.topSourceEntries} of them)` : ''}`;
  return `from ${h.sources}${h.sources >= MAX_SOURCES ? ' or more' : ''} addresses, the most from ${sourceName(input, h.topSource)} (${h.topSourceEntries})`;
}

/** "172.17.0.2 (container web)". */
function sourceName(input: DiagnosisInput, address: string): string {
  const container = input.context === null ? null : holderOf(input.context, address);
  return `${address}${container === null ? '' : ` (container ${container})`}`;
}

/** What to do about the holder's entries, by their state, ending with the conntrack command that deletes them. */
function deleteRemedy(input: DiagnosisInput, h: ConntrackHolder): string {
  const main = mainSource(h);
  const command = `conntrack -D -p ${h.protocol}${main === null ? '' : ` -s ${main}`} --dport ${h.destinationPort}${h.state === '' || h.protocol !== 'tcp' ? '' : ` --state ${h.state}`}`;
  if (h.state === 'TIME_WAIT') {
    return `These are connections already closed, kept for late packets (many short connections without keep-alive fill the table this way); deleting them is safe: ${command}.`;
  }
  const who = main === null ? `so many connections to port ${h.destinationPort} stay open (clients that vanish without closing, a leak)` : `${sourceName(input, main)} keeps so many connections to port ${h.destinationPort} open (a pool that never closes its connections, a leak)`;
  return `Then find why ${who}; if they are stale, delete their entries, though a live one that goes through NAT loses its translation: ${command}.`;
}

/**
 * A warning when a live window's Conntrack.Drop rose by more than the SYNs `filtered` put
 * down to a full table: those packets never reached a captured interface. On a Docker bridge
 * (br_netfilter) a container's SYN is dropped in the bridge's own netfilter hook, before the
 * bridge device, so a capture of docker0 shows nothing of it. Null otherwise.
 */
export function unseenConntrackDrops(kernel: KernelEvidence | null | undefined, findings: readonly Finding[]): string | null {
  const rising = droppingNamespaces(kernel);
  if (rising.length === 0) return null;
  const drops = rising.reduce((n, c) => n + c.deltas[DROP_COUNTER]!, 0);
  const claimed = findings.filter((f) => f.evidence['droppedBy'] === 'conntrack-table-full').reduce((n, f) => n + Number(f.evidence['syns'] ?? 0), 0);
  if (drops <= claimed) return null;
  const where = rising.map((c) => `${c.namespace}${c.conntrack === undefined ? '' : ` (${c.conntrack.count} of ${c.conntrack.max} entries at the end)`}`).join(', ');
  return (
    `the connection-tracking table of ${where} was full: the kernel dropped ${plural(drops - claimed, 'packet')} of new connections that no SYN in this capture accounts for, ` +
    'so they never reached a captured interface (on a Docker bridge, br_netfilter drops a container\'s SYN before the bridge device sees it): capture with -i any, or on the containers\' veths, to see whose they were'
  );
}

/** Whether the host facts say how full the connection-tracking table was: a snapshot of it, or a live window's counters of it. */
export function conntrackKnown(input: DiagnosisInput): boolean {
  return input.context?.conntrack != null || (input.kernel?.counters ?? []).some((c) => DROP_COUNTER in c.deltas);
}

/** The live window's namespaces whose Conntrack.Drop rose. */
function droppingNamespaces(kernel: KernelEvidence | null | undefined): CounterDeltas[] {
  return (kernel?.counters ?? []).filter((c) => (c.deltas[DROP_COUNTER] ?? 0) > 0);
}
