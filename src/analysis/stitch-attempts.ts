import { attemptPath, type AttemptPath } from '../flow/attempt-path';
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
  /** Ids of flows that are another hop of an attempt seen from one of its retransmissions on (a capture begun late): counted once, left to the earlier hop's view. */
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
  for (const pair of track.stitcher.lateHops(new Set(groups.flatMap((g) => g.flows)))) {
    // The hop left out is the later one, unless the earlier is this host's masquerade of a container's (the container's view says more).
    const first = byNumber.get(pair.first.flow);
    const late = byNumber.get(pair.late.flow);
    const hostsOwn = (f: Flow | undefined) => f !== undefined && context !== null && isLocalAddress(context, f.clientIp);
    const left = hostsOwn(first) && late !== undefined && !hostsOwn(late) ? pair.first : pair.late;
    handshakes.attempted--;
    handshakes[left.outcome]--;
    out.innerHops.add(left.flow);
    out.lateHops.add(flowId(left.flow));
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
