import { attemptPath, type AttemptPath } from '../flow/attempt-path';
import type { LateHop } from '../flow/stitch';
import { flowId, flowOrdinal, type Flow } from '../flow/flow';
import { ServicePaths } from '../flow/service-path';
import type { TrackStage } from './track';
import type { HostContext } from '../context/host-context';
import { isLocalAddress } from '../diagnose/context-facts';

export interface StitchedAttempts {
  /** The failed attempts seen at several hops, ordered by their outermost flow. */
  attempts: AttemptPath[];
  /** Flow numbers of the inner hops: the same attempt again, after NAT. */
  innerHops: Set<number>;
  /** Ids of every flow that is one hop of a stitched attempt, answered or not. */
  stitchedFlows: Set<string>;
  /** The hops stitched attempts took per service: where an attempt seen at one hop only should have gone. */
  servicePaths: ServicePaths;
  /** Ids of flows that are another hop of an attempt seen from one of its retransmissions on (a capture begun late), left out of the rules: counted once, the other hop's view stands. */
  lateHops: Set<string>;
}

/**
 * Stage 4: one attempt seen at several hops (NAT) becomes one attempt. Each counts once in
 * the handshake summary (corrected here, in `track.handshakes`), with the outermost hop's
 * (the client's) outcome; the failed ones get their path drawn.
 */
export function stitchAttempts(track: TrackStage, failedFlows: readonly Flow[], interfaceNames: readonly string[], context: HostContext | null): StitchedAttempts {
  const byNumber = new Map<number, Flow>();
  for (const f of failedFlows) byNumber.set(flowOrdinal(f.id), f);
  for (const f of track.kept) byNumber.set(flowOrdinal(f.id), f);
  const handshakes = track.handshakes;
  const out: StitchedAttempts = { attempts: [], innerHops: new Set(), stitchedFlows: new Set(), servicePaths: new ServicePaths(), lateHops: new Set() };
  const names = (ids: readonly number[]) => ids.map((i) => interfaceNames[i] ?? `#${i}`);
  const groups = track.stitcher.groups();
  const grouped = new Set(groups.flatMap((g) => g.flows));
  const taken = new Set<number>();
  const leaveOut = (hop: LateHop) => {
    handshakes.attempted--;
    handshakes[hop.outcome]--;
    out.innerHops.add(hop.flow);
    out.lateHops.add(flowId(hop.flow));
    out.stitchedFlows.add(flowId(hop.flow));
  };
  for (const pair of track.stitcher.lateHops(grouped, new Set(groups.map((g) => g.flows[0]!)))) {
    if (taken.has(pair.first.flow) || taken.has(pair.late.flow)) continue;
    taken.add(pair.first.flow).add(pair.late.flow);
    // A group says more than a lone hop of the same attempt: the lone one is left out.
    if (pair.lateGrouped) leaveOut(pair.first);
    else if (pair.firstGrouped) leaveOut(pair.late);
    else {
      const first = byNumber.get(pair.first.flow);
      const late = byNumber.get(pair.late.flow);
      const hops = first === undefined || late === undefined || context === null ? null : natOrder(context, first, late);
      if (hops === null) {
        leaveOut(pair.late);
        continue;
      }
      // Which side of the NAT each hop is tells the order their first SYNs cannot: one stitched attempt, counted once with the outer hop's outcome.
      const [outer, inner] = hops;
      handshakes.attempted--;
      handshakes[inner === first ? pair.first.outcome : pair.late.outcome]--;
      out.innerHops.add(flowOrdinal(inner.id));
      out.stitchedFlows.add(outer.id).add(inner.id);
      out.attempts.push(attemptPath([outer, inner], [outer, inner].map((f) => interfaceNames[f.interfaces[0] ?? -1] ?? '?')));
    }
  }
  for (const g of groups) {
    for (const o of g.outcomes) {
      handshakes.attempted--;
      handshakes[o]--;
    }
    handshakes.attempted++;
    handshakes[g.outcomes[0]!]++;
    for (const inner of g.flows.slice(1)) out.innerHops.add(inner);
    for (const n of g.flows) out.stitchedFlows.add(flowId(n));
    out.servicePaths.addStitched(names(g.interfaces), g.servers, g.clients);
    if (g.outcomes.every((o) => o === 'completed')) continue;
    // A hop that completed has no Flow object unless --all-flows kept it; such a rare
    // path (the client failed, an inner hop completed) is counted but not drawn. So is a
    // hop a flood left out of its group's sample.
    const flows = g.flows.map((n) => byNumber.get(n));
    if (flows.some((f) => f === undefined)) continue;
    out.attempts.push(attemptPath(flows as Flow[], names(g.interfaces)));
  }
  out.attempts.sort((a, b) => flowOrdinal(a.id) - flowOrdinal(b.id));
  return out;
}

/**
 * Two flows of one attempt on either side of this host's NAT, outer (the client's view) first:
 * a masquerade rewrote the client to one of this host's addresses (the container's flow is the
 * outer one), or a published port's DNAT rewrote a server that is one of them (that flow is the
 * outer one). Null when the snapshot does not tell.
 */
function natOrder(ctx: HostContext, a: Flow, b: Flow): [Flow, Flow] | null {
  const own = (ip: string) => isLocalAddress(ctx, ip);
  if (a.clientIp !== b.clientIp) {
    if (own(a.clientIp) !== own(b.clientIp)) return own(a.clientIp) ? [b, a] : [a, b];
    return null;
  }
  if (a.serverIp !== b.serverIp && own(a.serverIp) !== own(b.serverIp)) return own(a.serverIp) ? [a, b] : [b, a];
  return null;
}
