import type { HostContext, NetInterface } from './host-context';
import { withMac } from './match-capture';

/**
 * The snapshot's interface a capture of one link was taken on, from the MACs of its frames:
 * every unicast frame on a host's own link comes from or goes to that link's MAC (a bridge's
 * too, for what the host sends into it). The one interface of the snapshot whose MAC the
 * frames show, or null when none or several do. Bridge ports are left out: the frames a
 * bridge forwards carry its ports' peers' MACs, not theirs.
 */
export function interfaceByMacs(ctx: HostContext, macs: readonly string[]): NetInterface | null {
  const seen = new Set(macs.map((m) => m.toLowerCase()));
  const candidates = withMac(ctx.interfaces).filter((i) => i.master === null && seen.has(i.mac!.toLowerCase()));
  return candidates.length === 1 ? candidates[0]! : null;
}
