import { kernelAvailability, type KernelAvailability } from '../evidence/kernel-availability';
import { counterDeltas, readKernelCounters } from '../evidence/kernel-counters';
import type { CounterDeltas, KernelEvidence } from '../evidence/kernel-evidence';
import { startTraceSession, type TraceSession } from '../evidence/trace-session';
import { inNetns } from '../netns/in-netns';
import type { ResolvedNamespace } from '../netns/namespace-spec';
import { currentNamespaceLabel } from '../context/netns-label';

/**
 * The kernel's side of a capture window: counters of every namespace involved read
 * before and after, and (root, tracefs) drop reasons and SYN-ACK retransmits during it.
 */
export class KernelWindow {
  private before: (Record<string, number> | null)[] = [];
  private startedAt = 0;
  private trace: TraceSession | null = null;
  private readonly unavailable: KernelEvidence['unavailable'] = [];
  /** Trace events the trace ring buffer had no room for (known after end()). */
  lostTraceEvents = 0;

  constructor(
    private readonly namespaces: readonly (ResolvedNamespace | null)[],
    private readonly traceEvents: boolean,
  ) {}

  begin(): void {
    this.startedAt = Date.now();
    this.before = this.namespaces.map((ns) => this.read(ns));
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
    const seconds = (Date.now() - this.startedAt) / 1000;
    const counters: CounterDeltas[] = [];
    for (const [i, ns] of this.namespaces.entries()) {
      const before = this.before[i];
      const after = this.read(ns);
      if (before === null || before === undefined || after === null) continue;
      counters.push(counterDeltas(this.label(ns), before, after, seconds));
    }
    const session = this.trace;
    this.trace = null;
    const trace = session === null ? { events: [], unavailable: [], lost: 0 } : session.stop();
    this.lostTraceEvents = trace.lost;
    return { counters, events: trace.events, unavailable: [...this.unavailable, ...trace.unavailable] };
  }

  /** Remove the trace instance after an error; nothing is reported. */
  abort(): void {
    this.trace?.abort();
    this.trace = null;
  }

  private read(ns: ResolvedNamespace | null): Record<string, number> | null {
    try {
      return inNetns(ns, () => readKernelCounters());
    } catch (e) {
      this.unavailable.push({ source: `counters of ${this.label(ns)}`, reason: (e as Error).message });
      return null;
    }
  }

  private label(ns: ResolvedNamespace | null): string {
    return ns?.label ?? currentNamespaceLabel();
  }
}
