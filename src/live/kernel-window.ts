import { kernelAvailability, type KernelAvailability } from '../evidence/kernel-availability';
import { readConntrackTable, type ConntrackTable } from '../evidence/conntrack-table';
import { counterDeltas, readIfPresent, readKernelCounters } from '../evidence/kernel-counters';
import type { CounterDeltas, KernelEvidence, NamespaceCounters } from '../evidence/kernel-evidence';
import { addressesHere, addressesThrough, countersThrough, listenersThrough, namespaceCensus, namespaceInodeAt, namespaceOf } from '../evidence/namespace-census';
import { startTraceSession, type TraceSession } from '../evidence/trace-session';
import { inNetns } from '../netns/in-netns';
import type { ResolvedNamespace } from '../netns/namespace-spec';
import { readCurrentSysctls } from '../context/collect';
import { currentNamespaceLabel } from '../context/netns-label';

/** Other namespaces one window reads at most (each: two /proc reads at begin, a stat and four reads at end). */
export const MAX_OTHER_NAMESPACES = 512;
/**
 * At most this many other namespaces get their listening sockets read at a window's end, and
 * only those that sent RSTs during it (a refused SYN is one): /proc/PID/net/tcp walks the
 * host's whole TCP hash for each namespace, about 2 ms apiece (bench/window-census.sh).
 */
export const MAX_LISTENER_READS = 32;

/** What end() read, for the next window to begin from (begin(previous)). */
interface EndReadings {
  at: number;
  /** Each target's counters by namespace path ('' for this process's own), when readable, with the namespace's inode then. */
  targets: Map<string, { inode: number | null; counters: Record<string, number> }>;
  /** Other namespaces' counters by inode, with the process they were read through. */
  others: Map<number, { pid: number; counters: Record<string, number> }>;
}

/** The inode of a target's namespace now (null when it cannot be read). */
function targetInode(ns: ResolvedNamespace | null): number | null {
  return namespaceInodeAt(ns?.path ?? '/proc/self/ns/net');
}

/** A namespace the capture does not target, as begin() read it. */
interface OtherNamespace {
  inode: number;
  pid: number;
  before: Record<string, number>;
}

/**
 * The kernel's side of a capture window: counters of every namespace involved read
 * before and after, and (root, tracefs) drop reasons and SYN-ACK retransmits during it.
 * The host's other namespaces (containers behind DNAT count their own accept-queue drops)
 * are read too, through a process in each.
 */
export class KernelWindow {
  private before: (Record<string, number> | null)[] = [];
  private others: OtherNamespace[] = [];
  private startedAt = 0;
  private trace: TraceSession | null = null;
  private endReadings: EndReadings | null = null;
  private readonly unavailable: KernelEvidence['unavailable'] = [];
  /** Trace events the trace ring buffer had no room for (known after end()). */
  lostTraceEvents = 0;
  /** The first namespace's sysctls as the window ended (after end(); null: not readable). */
  sysctlsAtEnd: Record<string, string> | null = null;

  constructor(
    private readonly namespaces: readonly (ResolvedNamespace | null)[],
    private readonly traceEvents: boolean,
  ) {}

  /**
   * Read every counter now. Given the window before (watch's windows follow each other), its
   * end readings are taken instead where it has them: a counter that moves between one
   * window's end and the next one's begin (the census, the sysctls, the trace session and
   * the diagnosis start in between) then counts in the next window instead of in neither.
   */
  begin(previous: KernelWindow | null = null): void {
    const handed = previous?.endReadings ?? null;
    this.startedAt = handed?.at ?? Date.now();
    this.before = this.namespaces.map((ns) => {
      const known = handed?.targets.get(ns?.path ?? '');
      // The same path may name a new namespace by now (ingress_sbox after the swarm was created again): then read it afresh.
      return known !== undefined && known.inode !== null && known.inode === targetInode(ns) ? known.counters : (this.read(ns, false)?.counters ?? null);
    });
    this.others = this.readOthers(handed);
    if (!this.traceEvents) {
      this.unavailable.push({ source: 'tracefs', reason: 'not asked for (--no-trace)' });
      return;
    }
    const started = startTraceSession();
    if (started.ok) this.trace = started.session;
    else this.unavailable.push(...started.unavailable);
  }

  /** What this window collects and what not (after begin(), before end()). */
  availability(): KernelAvailability[] {
    return kernelAvailability(this.trace !== null, this.unavailable);
  }

  end(): KernelEvidence {
    const at = Date.now();
    const seconds = (at - this.startedAt) / 1000;
    const counters: CounterDeltas[] = [];
    const readings: EndReadings = { at, targets: new Map(), others: new Map() };
    for (const [i, ns] of this.namespaces.entries()) {
      const before = this.before[i];
      const after = this.read(ns, true);
      if (after !== null) readings.targets.set(ns?.path ?? '', { inode: targetInode(ns), counters: after.counters });
      if (before === null || before === undefined || after === null) continue;
      counters.push({ ...counterDeltas(this.label(ns), before, after.counters, seconds), addresses: after.addresses, ...(after.conntrack !== null && { conntrack: after.conntrack }) });
    }
    const others = this.othersAtEnd(seconds, readings);
    this.endReadings = readings;
    try {
      this.sysctlsAtEnd = inNetns(this.namespaces[0] ?? null, readCurrentSysctls);
    } catch {
      this.sysctlsAtEnd = null; // the counters' reading already says why the namespace cannot be entered
    }
    const session = this.trace;
    this.trace = null;
    const trace = session === null ? { events: [], unavailable: [], lost: 0 } : session.stop();
    this.lostTraceEvents = trace.lost;
    return { counters, events: trace.events, unavailable: [...this.unavailable, ...trace.unavailable], ...(others.length > 0 && { otherNamespaces: others }) };
  }

  private readOthers(handed: EndReadings | null): OtherNamespace[] {
    const targets = new Set(this.namespaces.map((ns) => namespaceInodeAt(ns?.path ?? '/proc/self/ns/net')));
    const others: OtherNamespace[] = [];
    const census = [...namespaceCensus()].filter(([inode]) => !targets.has(inode));
    // Not "counters of ...": that source is the targets' own (kernel-availability.ts).
    if (census.length > MAX_OTHER_NAMESPACES) {
      this.unavailable.push({ source: 'other namespaces', reason: `counters read in the first ${MAX_OTHER_NAMESPACES} of ${census.length}` });
    }
    for (const [inode, pid] of census.slice(0, MAX_OTHER_NAMESPACES)) {
      const known = handed?.others.get(inode);
      // The namespace read at the last end, through a process still in it: that reading is its start.
      if (known !== undefined && namespaceOf(known.pid) === inode) {
        others.push({ inode, pid: known.pid, before: known.counters });
        continue;
      }
      const before = countersThrough(pid);
      if (Object.keys(before).length > 0 && namespaceOf(pid) === inode) others.push({ inode, pid, before });
    }
    return others;
  }

  /** The diagnostic counters' changes in the other namespaces still there and owning addresses. */
  private othersAtEnd(seconds: number, readings: EndReadings): NamespaceCounters[] {
    let census: Map<number, number> | null = null;
    const out: NamespaceCounters[] = [];
    let listenerReads = 0;
    let refusing = 0;
    for (const o of this.others) {
      const pid = namespaceOf(o.pid) === o.inode ? o.pid : (census ??= namespaceCensus()).get(o.inode);
      if (pid === undefined) continue;
      const addresses = addressesThrough(pid);
      const after = countersThrough(pid);
      // The process gone during the reads, or a namespace that is not the one read at begin
      // (an inode reused after a container restart): no deltas rather than wrong ones.
      if (addresses.length === 0 || Object.keys(after).length === 0 || namespaceOf(pid) !== o.inode) continue;
      readings.others.set(o.inode, { pid, counters: after });
      const reading = counterDeltas(`pid:${pid}`, o.before, after, seconds);
      if (Object.values(reading.deltas).some((d) => d < 0)) continue;
      const sentRsts = (reading.deltas['Tcp.OutRsts'] ?? 0) > 0;
      if (sentRsts) refusing++;
      const listeners = sentRsts && listenerReads < MAX_LISTENER_READS ? (listenerReads++, listenersThrough(pid)) : null;
      // Read after the identity check: a process gone (or a namespace replaced) since then gives no listeners, not an empty list.
      const same = listeners !== null && namespaceOf(pid) === o.inode;
      out.push({ ...reading, addresses, ...(same && { listeners }) });
    }
    if (refusing > listenerReads) {
      this.unavailable.push({ source: 'other namespaces', reason: `listening sockets read in the first ${listenerReads} of ${refusing} that sent RSTs` });
    }
    this.others = [];
    return out;
  }

  /** Remove the trace instance after an error; nothing is reported. */
  abort(): void {
    this.trace?.abort();
    this.trace = null;
  }

  /**
   * A target's counters, and at the end the addresses it owns (a listener there is judged by
   * them) and its connection-tracking table (a full one drops new connections).
   */
  private read(ns: ResolvedNamespace | null, atEnd: boolean): { counters: Record<string, number>; addresses: string[]; conntrack: ConntrackTable | null } | null {
    try {
      return inNetns(ns, () => ({
        counters: readKernelCounters(),
        addresses: atEnd ? addressesHere() : [],
        conntrack: atEnd ? readConntrackTable(readIfPresent) : null,
      }));
    } catch (e) {
      this.unavailable.push({ source: `counters of ${this.label(ns)}`, reason: (e as Error).message });
      return null;
    }
  }

  private label(ns: ResolvedNamespace | null): string {
    return ns?.label ?? currentNamespaceLabel();
  }
}

