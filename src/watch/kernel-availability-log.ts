import type { KernelAvailability } from '../evidence/kernel-availability';

/**
 * Remembers the last availability watch reported, so that the `kernel-evidence` event is
 * written when watch starts and again only when a source comes or goes (or its reason
 * changes), not every window.
 */
export class KernelAvailabilityLog {
  private last: string | null = null;

  /** The event body when `now` differs from what was reported last, else null. */
  observe(node: string, windowIndex: number, now: readonly KernelAvailability[]): object | null {
    const key = JSON.stringify(now);
    if (key === this.last) return null;
    this.last = key;
    return { node, window: windowIndex, sources: now };
  }
}
