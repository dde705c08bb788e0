import type { HandleStats } from './capture-backend';

/** One captured interface's name and what libpcap counted for it (null: the backend cannot ask). */
export interface InterfaceDrops {
  name: string;
  stats: HandleStats | null;
}

/**
 * The report's warnings for packets the capture itself lost: libpcap's ps_drop (the
 * kernel's packet ring was full), ps_ifdrop (the interface or its driver dropped them),
 * and trace events the tracefs ring buffer had no room for.
 */
export function captureDropWarnings(interfaces: readonly InterfaceDrops[], lostTraceEvents: number): string[] {
  const out: string[] = [];
  for (const { name, stats } of interfaces) {
    if (stats === null) continue;
    if (stats.dropped > 0) {
      out.push(`${name}: the capture dropped ${stats.dropped} of ${stats.received} packets (the kernel's packet ring was full, libpcap ps_drop); findings may miss them`);
    }
    if (stats.ifDropped > 0) {
      out.push(`${name}: the interface or its driver dropped ${stats.ifDropped} packets before the capture saw them (libpcap ps_ifdrop); findings may miss them`);
    }
  }
  if (lostTraceEvents > 0) {
    out.push(`tracefs: ${lostTraceEvents} kernel trace events were lost (the trace ring buffer was full); kernel drop reasons may be missing`);
  }
  return out;
}
