import type { KernelEvidence } from './kernel-evidence';

/**
 * The kinds of kernel evidence a window can have, a closed set (a metric's label): drop
 * reasons and SYN-ACK retransmits traced in a tracefs instance, and the SNMP/netstat
 * counters read before and after in every namespace captured.
 */
export const KERNEL_EVIDENCE_SOURCES = ['tracefs', 'counters'] as const;
export type KernelEvidenceSource = (typeof KERNEL_EVIDENCE_SOURCES)[number];

/** Whether one kind of kernel evidence is collected in the current window, and if not why. */
export interface KernelAvailability {
  source: KernelEvidenceSource;
  available: boolean;
  /** Why not (the first reason given), only when unavailable. */
  reason?: string;
}

/**
 * The availability of each source as a window begins: `traceStarted` whether its trace
 * session runs, `unavailable` what the window has noted so far (a trace session that could
 * not start says why under "tracefs", a namespace whose counters could not be read under
 * "counters of NS").
 */
export function kernelAvailability(traceStarted: boolean, unavailable: KernelEvidence['unavailable']): KernelAvailability[] {
  const counters = unavailable.find((u) => u.source.startsWith('counters of '));
  const trace = unavailable.find((u) => u.source === 'tracefs') ?? unavailable.find((u) => u.source !== counters?.source);
  return [
    traceStarted ? { source: 'tracefs', available: true } : { source: 'tracefs', available: false, reason: trace?.reason ?? 'not started' },
    counters === undefined ? { source: 'counters', available: true } : { source: 'counters', available: false, reason: `${counters.source}: ${counters.reason}` },
  ];
}

/** One line for stderr: "kernel evidence: tracefs unavailable (reason); counters available". */
export function kernelAvailabilityText(now: readonly KernelAvailability[]): string {
  return `kernel evidence: ${now.map((a) => (a.available ? `${a.source} available` : `${a.source} unavailable (${a.reason})`)).join('; ')}`;
}
