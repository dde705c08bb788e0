import type { HostContext, Route } from '../context/host-context';
import { contextInterface } from './context-facts';
import { distinct, groupBy } from './group';
import type { DiagnosisInput } from './input';
import { isMoreSpecific, prefixLength } from './prefix';

/** One prefix reachable through two devices in one table. */
export interface DoubleRoute {
  table: string;
  /** The prefix both routes cover (the more specific one's). */
  prefix: string;
  routes: Route[];
}

export function isBridge(ctx: HostContext, input: DiagnosisInput, name: string): boolean {
  return contextInterface(ctx, name)?.kind === 'bridge' || input.bridges.some((b) => b.name === name) || (ctx.dockerNetworks ?? []).some((n) => n.bridge === name);
}

function routable(r: Route): boolean {
  if (r.type !== 'unicast' || r.device === null) return false;
  const len = prefixLength(r.destination);
  if (len === null || len === 0 || r.destination === 'default') return false;
  // Link-local and multicast prefixes exist on every interface by design.
  return !/^(fe[89ab][0-9a-f]|ff[0-9a-f]{2}):/i.test(r.destination) && !r.destination.startsWith('169.254.');
}

/** Prefixes routed via two devices in one table: same destination, or a bridge route inside a wider uplink route. */
export function doubleRoutes(ctx: HostContext, input: DiagnosisInput): DoubleRoute[] {
  const out: DoubleRoute[] = [];
  const candidates = ctx.routes.filter((r) => r.table !== 'local' && r.table !== '255' && routable(r));
  for (const [key, routes] of groupBy(candidates, (r) => `${r.table}|${r.destination}`)) {
    const devices = distinct(routes.map((r) => r.device!));
    if (devices.length < 2) continue;
    // Equal-cost gateways over plain uplinks are multipath, not a conflict.
    const ecmp = routes.every((r) => r.gateway !== null && r.metric === routes[0]!.metric) && !devices.some((d) => isBridge(ctx, input, d));
    if (!ecmp) out.push({ table: key.slice(0, key.indexOf('|')), prefix: routes[0]!.destination, routes });
  }
  for (const inner of candidates) {
    if (!isBridge(ctx, input, inner.device!)) continue;
    for (const outer of candidates) {
      if (outer.table !== inner.table || isBridge(ctx, input, outer.device!) || !isMoreSpecific(inner.destination, outer.destination)) continue;
      if (out.some((d) => d.table === inner.table && d.prefix === inner.destination)) continue;
      out.push({ table: inner.table, prefix: inner.destination, routes: [outer, inner] });
    }
  }
  return out;
}

/** The route the table uses for the prefix: the more specific one, else the lowest metric, then the first listed. */
export function winnerOf(d: DoubleRoute): Route {
  const specific = d.routes.filter((r) => r.destination === d.prefix);
  return specific.reduce((best, r) => (r.metric < best.metric ? r : best));
}

/** The bridge among a double route's devices, or null when none is one. */
export function bridgeOf(ctx: HostContext, input: DiagnosisInput, d: DoubleRoute): string | null {
  return d.routes.map((r) => r.device!).find((dev) => isBridge(ctx, input, dev)) ?? null;
}

/** A route as `ip route` prints it. */
export function describeRoute(r: Route): string {
  return [r.type !== 'unicast' ? r.type : '', r.destination, r.gateway ? `via ${r.gateway}` : '', r.device ? `dev ${r.device}` : '',
    r.metric ? `metric ${r.metric}` : '', r.table !== 'main' ? `table ${r.table}` : ''].filter((s) => s !== '').join(' ');
}

