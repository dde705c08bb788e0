import type { KernelEvidence } from '../evidence/kernel-evidence';
import type { BridgeSubnet } from './bridge';
import type { HostContext } from './host-context';
import type { ContextMatch } from './match-capture';

/** The host facts an analysis may use once the context has been checked against the capture. */
export interface ContextUse {
  context: HostContext | null;
  bridges: readonly BridgeSubnet[];
  kernel: KernelEvidence | null;
  /** ifindex → interface name, for any-device captures; null when the context may not name them. */
  ifindexNames: Map<number, string> | null;
  /** Why the context was not used, or could not be checked (one line each). */
  warnings: string[];
}

/**
 * Applies a context check: a mismatching context is dropped with everything taken from it
 * (its bridges, its kernel evidence, its interface names); an unchecked one is used as
 * given except for naming ifindexes, which only a matching snapshot may do. `match` null
 * means the context needs no check (a live run's own snapshot).
 */
export function contextUse(
  facts: { context: HostContext | null; bridges: readonly BridgeSubnet[]; kernel: KernelEvidence | null },
  match: ContextMatch | null,
): ContextUse {
  const ctx = facts.context;
  if (ctx === null) return { ...facts, ifindexNames: null, warnings: [] };
  const names = new Map(ctx.interfaces.map((i) => [i.index, i.name]));
  if (match === null || match.verdict === 'match') return { ...facts, ifindexNames: names, warnings: [] };
  const which = `the host context (${ctx.hostname}, namespace ${ctx.namespace}, taken ${ctx.capturedAt})`;
  if (match.verdict === 'unchecked') {
    return { ...facts, ifindexNames: null, warnings: [`could not check that ${which} belongs to this capture: the capture shows none of its MACs; its facts are used as given, but not to name interfaces by ifindex`] };
  }
  return {
    context: null,
    bridges: facts.bridges.filter((b) => b.source !== 'context'),
    kernel: facts.kernel === ctx.kernelEvidence ? null : facts.kernel,
    ifindexNames: null,
    warnings: [`${which} does not belong to this capture: ${match.conflicts.join('; ')}; its interfaces, bridges, routes and rules were not used`],
  };
}
