import type { HandshakeSummary } from '../analysis';
import type { FindingCode, Severity } from '../diagnose/finding';
import { KERNEL_EVIDENCE_SOURCES, type KernelAvailability } from '../evidence/kernel-availability';

/** One captured interface's packets and libpcap's drops over a window. */
export interface InterfaceWindowCounts {
  name: string;
  packets: number;
  /** null: the backend cannot read libpcap's counters. */
  dropped: number | null;
}

/** What one finished window adds to the metrics. */
export interface WindowMetrics {
  interfaces: readonly InterfaceWindowCounts[];
  handshakes: HandshakeSummary;
  /** Open findings after the window, as the lifecycle holds them. */
  openFindings: Iterable<{ code: FindingCode; severity: Severity }>;
  /** How long the window's analysis took to finish (diagnosis), in seconds. */
  analysisSeconds: number;
  /** Findings the lifecycle turned away (its bound), in total. */
  untrackedFindings: number;
}

const OUTCOMES = ['completed', 'unanswered', 'rejected', 'synAckLost'] as const;
const OUTCOME_LABEL: Record<(typeof OUTCOMES)[number], string> = { completed: 'completed', unanswered: 'unanswered', rejected: 'rejected', synAckLost: 'syn_ack_lost' };

/**
 * The counters and gauges `synscope watch` serves at /metrics. Every label is bounded: an
 * interface is one watch was given, an outcome one of four, a finding code and severity
 * from closed sets; no address is ever a label.
 */
export class WatchMetrics {
  private readonly packets = new Map<string, number>();
  private readonly drops = new Map<string, number>();
  private readonly handshakes = new Map<string, number>(OUTCOMES.map((o) => [OUTCOME_LABEL[o], 0]));
  private findingsOpen = new Map<string, number>();
  private windowSeconds = 0;
  private windows = 0;
  private untracked = 0;
  private readonly kernelEvidence = new Map<string, number>();

  /**
   * The interfaces' packets exist in the exposition from the start, at 0, so rate() has a
   * first sample; their drops once the backend has read libpcap's counters (the cap
   * backend cannot, and a 0 would claim it did).
   */
  constructor(interfaces: readonly string[]) {
    for (const name of interfaces) this.packets.set(name, 0);
  }

  addWindow(w: WindowMetrics): void {
    for (const i of w.interfaces) {
      this.packets.set(i.name, (this.packets.get(i.name) ?? 0) + i.packets);
      if (i.dropped !== null) this.drops.set(i.name, (this.drops.get(i.name) ?? 0) + i.dropped);
    }
    for (const o of OUTCOMES) this.handshakes.set(OUTCOME_LABEL[o], this.handshakes.get(OUTCOME_LABEL[o])! + w.handshakes[o]);
    const open = new Map<string, number>();
    for (const f of w.openFindings) {
      const key = labels({ code: f.code, severity: f.severity });
      open.set(key, (open.get(key) ?? 0) + 1);
    }
    // A code and severity that had open findings stays in the exposition at 0 once they are resolved.
    for (const key of this.findingsOpen.keys()) if (!open.has(key)) open.set(key, 0);
    this.findingsOpen = open;
    this.windowSeconds = w.analysisSeconds;
    this.windows++;
    this.untracked = w.untrackedFindings;
  }

  /** Which kernel evidence the current window collects (1) or not (0); the reason is in the `kernel-evidence` event, not a label. */
  setKernelAvailability(now: readonly KernelAvailability[]): void {
    for (const a of now) this.kernelEvidence.set(a.source, a.available ? 1 : 0);
  }

  /** The Prometheus text exposition format, version 0.0.4. */
  exposition(): string {
    const out: string[] = [];
    const family = (name: string, type: 'counter' | 'gauge', help: string, samples: Iterable<[string, number]>) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labelText, value] of samples) out.push(`${name}${labelText} ${value}`);
    };
    family('synscope_packets_total', 'counter', 'Packets captured, per interface.', [...this.packets].map(([i, v]) => [labels({ interface: i }), v]));
    family('synscope_capture_drops_total', 'counter', "Packets libpcap reported dropped (ring full, ps_drop, or by the interface, ps_ifdrop), per interface.", [...this.drops].map(([i, v]) => [labels({ interface: i }), v]));
    family('synscope_handshakes_total', 'counter', 'TCP connection attempts that ended, by outcome.', [...this.handshakes].map(([o, v]) => [labels({ outcome: o }), v]));
    family('synscope_findings_open', 'gauge', 'Findings open after the last window, by code and severity.', [...this.findingsOpen].sort(([a], [b]) => a.localeCompare(b)));
    family('synscope_findings_untracked_total', 'counter', 'New findings not followed because the bound of open findings was reached.', [['', this.untracked]]);
    family('synscope_window_seconds', 'gauge', "How long the last window's analysis took to finish, in seconds.", [['', this.windowSeconds]]);
    if (this.kernelEvidence.size > 0) {
      const sources = KERNEL_EVIDENCE_SOURCES.filter((k) => this.kernelEvidence.has(k));
      family('synscope_kernel_evidence_available', 'gauge', 'Whether the current window collects this kernel evidence (1) or not (0: the kernel-evidence event says why).', sources.map((k) => [labels({ source: k }), this.kernelEvidence.get(k)!]));
    }
    family('synscope_windows_total', 'counter', 'Analysis windows finished.', [['', this.windows]]);
    return `${out.join('\n')}\n`;
  }
}

/** `{a="x",b="y"}` with values escaped as the exposition format asks (backslash, quote, newline). */
function labels(pairs: Record<string, string>): string {
  const parts = Object.entries(pairs).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `{${parts.join(',')}}`;
}
