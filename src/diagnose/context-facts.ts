import type { HostContext, NetInterface } from '../context/host-context';
import type { Flow } from '../flow/flow';
import { parseSubnet, type Subnet } from '../net/cidr';
import type { DiagnosisInput } from './input';
import { addressValue, cidrContains } from './prefix';
import { lookupRoute } from './route-sim';

/** The context's interface of that name, or undefined (a capture's interface may be a file name). */
export function contextInterface(ctx: HostContext, name: string): NetInterface | undefined {
  return ctx.interfaces.find((i) => i.name === name);
}

/** True when `ip` is one of the host's own addresses (an interface address or a local route). */
export function isLocalAddress(ctx: HostContext, ip: string): boolean {
  let own = ownAddresses.get(ctx);
  if (own === undefined) {
    own = new Set(ctx.interfaces.flatMap((i) => i.addresses.map((a) => addressValue(a.address)?.toString() ?? a.address)));
    ownAddresses.set(ctx, own);
  }
  if (own.has(addressValue(ip)?.toString() ?? ip)) return true;
  const r = lookupRoute(ctx, ip);
  return 'route' in r && r.route.type === 'local';
}

const ownAddresses = new WeakMap<HostContext, Set<string>>();
/** Per snapshot and server address: the device the host routes toward the server (null when local). */
const towardServers = new WeakMap<HostContext, Map<string, string | null>>();

function towardServer(ctx: HostContext, server: string): string | null {
  let memo = towardServers.get(ctx);
  if (memo === undefined) towardServers.set(ctx, (memo = new Map()));
  let dev = memo.get(server);
  if (dev === undefined) {
    dev = isLocalAddress(ctx, server) ? null : deviceOf(lookupRoute(ctx, server));
    memo.set(server, dev);
  }
  return dev;
}

/**
 * The context interface the flow's SYN came in on: the first interface of the flow that
 * the context knows, skipping one the host would route toward the server (there the SYN
 * was leaving, e.g. DNAT'ed into docker0). Null when no interface qualifies.
 */
export function synInterface(flow: Flow, input: DiagnosisInput): string | null {
  const ctx = input.context;
  if (ctx === null) return null;
  const toServer = towardServer(ctx, flow.serverIp);
  for (const id of flow.interfaces) {
    const name = input.interfaceNames[id];
    if (name === undefined || contextInterface(ctx, name) === undefined) continue;
    if (toServer !== null && sameLink(ctx, name, toServer)) continue;
    return name;
  }
  return null;
}

/**
 * The way this host forwards a flow's SYN, from the snapshot's routes: the interface it came
 * in on and the device it leaves by, when neither end is the host and the two are not one
 * link. Null otherwise.
 */
export function forwardedWay(input: DiagnosisInput, flow: Flow): { iif: string; out: string } | null {
  const ctx = input.context;
  if (ctx === null || isLocalAddress(ctx, flow.serverIp) || isLocalAddress(ctx, flow.clientIp)) return null;
  const iif = synInterface(flow, input);
  if (iif === null) return null;
  const out = deviceOf(lookupRoute(ctx, flow.serverIp, { iif, src: flow.clientIp }));
  return out === null || sameLink(ctx, iif, out) ? null : { iif, out };
}

/** `ip` lies in a subnet of the interface's own addresses: a neighbour there, not routed to. */
export function onLink(iface: NetInterface | undefined, ip: string): boolean {
  return (iface?.addresses ?? []).some((a) => cidrContains(`${a.address}/${a.prefixLength}`, ip));
}

/** The output device of a lookup, or null (unreachable, or a route without a device). */
export function deviceOf(r: ReturnType<typeof lookupRoute>): string | null {
  return 'route' in r ? r.route.device : null;
}

/** True when `a` and `b` are the same link: equal, or one is a port (or bond slave) of the other. */
export function sameLink(ctx: HostContext, a: string, b: string): boolean {
  if (a === b) return true;
  return contextInterface(ctx, a)?.master === b || contextInterface(ctx, b)?.master === a;
}

/** A counter from the snapshot, or null when it was not read. */
export function counter(ctx: HostContext | null, name: string): number | null {
  const v = ctx?.counters[name];
  return typeof v === 'number' ? v : null;
}

/**
 * Every subnet the snapshot uses (interface addresses, non-default routes, Docker
 * networks) plus the bridges given: what a proposed replacement subnet must avoid.
 */
export function usedSubnets(input: DiagnosisInput): Subnet[] {
  const out: Subnet[] = input.bridges.map((b) => b.subnet);
  const ctx = input.context;
  if (ctx === null) return out;
  const add = (cidr: string) => {
    const s = parseSubnet(cidr);
    if (s !== null && Number(s.range.getPrefix().getValue()) > 0) out.push(s);
  };
  for (const i of ctx.interfaces) for (const a of i.addresses) add(`${a.address}/${a.prefixLength}`);
  for (const r of ctx.routes) if (r.destination !== 'default') add(r.destination.includes('/') ? r.destination : `${r.destination}/${r.family === 4 ? 32 : 128}`);
  for (const n of ctx.dockerNetworks ?? []) for (const s of n.subnets) add(s);
  return out;
}

/** True when packets from `ip` seen on `iface` carry that interface's own MAC: this host sent them (a container's, forwarded untranslated). */
export function sentFromHere(input: Pick<DiagnosisInput, 'macsByAddress'>, ctx: HostContext, ip: string, iface: string): boolean {
  const own = contextInterface(ctx, iface)?.mac;
  return own != null && (input.macsByAddress?.get(ip) ?? []).some((m) => m.interface === iface && m.mac === own);
}
