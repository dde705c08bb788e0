import type { MacSighting } from '../diagnose/input';
import type { HostContext, NetInterface } from './host-context';

/**
 * How far the snapshot's time may be from the capture's first and last packet. Docker
 * hosts change their interfaces, bridges and routes as containers and networks come and
 * go; a snapshot taken the same day (a capture at night, the snapshot next morning) most
 * likely shows the host as it was, one from last week may not.
 */
export const DEFAULT_CONTEXT_WINDOW_SECONDS = 24 * 3600;

/** What the capture shows that a host context can be checked against. */
export interface CaptureFacts {
  /** Time of the first and the last packet (Unix seconds), null without packets. */
  firstAt: number | null;
  lastAt: number | null;
  /** Source MACs of handshake packets and ARP senders, by IP address. */
  macsByAddress: ReadonlyMap<string, readonly MacSighting[]>;
  /** Interface names the files themselves state (pcapng if_name), without "any" and other namespaces' "NAME@NS". */
  statedNames: readonly string[];
  /** Per stated interface name: the unicast MACs its Ethernet frames came from or went to. */
  linkMacs: ReadonlyMap<string, readonly string[]>;
  /** An any-device capture's outgoing packets: ifindex → the source MACs the host sent with ("aa:bb:..."). */
  outgoingMacs: ReadonlyMap<number, readonly string[]>;
}

export type ContextVerdict = 'match' | 'mismatch' | 'unchecked';

export interface ContextMatch {
  /**
   * match: the capture shows the snapshot's own MACs and nothing contradicts it;
   * mismatch: positive evidence that it is another host or another time;
   * unchecked: the capture shows nothing to compare (then nothing is claimed either way).
   */
  verdict: ContextVerdict;
  /** What agreed, one phrase each ("192.0.2.1 with eth0's MAC 02:..."). */
  agreements: string[];
  /** What contradicted, one phrase each. */
  conflicts: string[];
}

/**
 * Checks that a host context belongs to a capture: its time is within `windowSeconds` of
 * the capture; the host's own addresses, where the capture shows them as senders, carry
 * the MAC of the snapshot's interface that holds them; packets the host sent on an
 * ifindex (any-device captures) carry that ifindex's MAC in the snapshot; unicast frames
 * on a captured interface (not a bridge, whose captures show its ports' traffic, nor a
 * bridge port, nor the parent of a Docker macvlan network) come from or go to that
 * interface's MAC in the snapshot; and at least one
 * interface name the capture states exists in the snapshot. Only MACs count as agreement
 * (two Docker hosts share interface names and may share a day); a missing interface or
 * address alone is no conflict (veths come and go with containers).
 */
export function matchContext(ctx: HostContext, facts: CaptureFacts, windowSeconds = DEFAULT_CONTEXT_WINDOW_SECONDS): ContextMatch {
  const agreements: string[] = [];
  const conflicts: string[] = [];
  checkTime(ctx, facts, windowSeconds, conflicts);
  checkOwnAddresses(ctx, facts, agreements, conflicts);
  checkOutgoing(ctx, facts, agreements, conflicts);
  checkLinks(ctx, facts, agreements, conflicts);
  if (facts.statedNames.length > 0 && !facts.statedNames.some((n) => ctx.interfaces.some((i) => i.name === n))) {
    conflicts.push(`none of the captured interfaces (${facts.statedNames.join(', ')}) exists in the snapshot`);
  }
  const verdict: ContextVerdict = conflicts.length > 0 ? 'mismatch' : agreements.length > 0 ? 'match' : 'unchecked';
  return { verdict, agreements, conflicts };
}

function checkTime(ctx: HostContext, facts: CaptureFacts, windowSeconds: number, conflicts: string[]): void {
  const at = Date.parse(ctx.capturedAt) / 1000;
  if (!Number.isFinite(at) || facts.firstAt === null || facts.lastAt === null) return;
  if (at < facts.firstAt - windowSeconds) conflicts.push(`the snapshot was taken ${span(facts.firstAt - at)} before the capture began`);
  else if (at > facts.lastAt + windowSeconds) conflicts.push(`the snapshot was taken ${span(at - facts.lastAt)} after the capture ended`);
}

function checkOwnAddresses(ctx: HostContext, facts: CaptureFacts, agreements: string[], conflicts: string[]): void {
  const holders = new Map<string, NetInterface[]>();
  for (const i of withMac(ctx.interfaces)) {
    for (const a of i.addresses) holders.set(a.address, [...(holders.get(a.address) ?? []), i]);
  }
  for (const [address, sightings] of facts.macsByAddress) {
    const owners = holders.get(address);
    if (owners === undefined || sightings.length === 0) continue;
    const seen = new Set(sightings.map((s) => s.mac.toLowerCase()));
    // Linux sends from any of its addresses out of any interface (a reply from the LAN address to a container leaves by docker0, with docker0's MAC).
    const owner = owners.find((i) => seen.has(i.mac!.toLowerCase())) ?? withMac(ctx.interfaces).find((i) => i.master === null && seen.has(i.mac!.toLowerCase()));
    if (owner !== undefined) agreements.push(`${address} sends with ${owner.name}'s MAC ${owner.mac}`);
    else conflicts.push(`${address} is ${owners[0]!.name}'s address in the snapshot (MAC ${owners[0]!.mac}), but the capture shows it sending with ${[...seen].join(', ')}`);
  }
}

function checkOutgoing(ctx: HostContext, facts: CaptureFacts, agreements: string[], conflicts: string[]): void {
  if (facts.outgoingMacs.size === 0) return;
  let known = 0;
  for (const [ifindex, macs] of facts.outgoingMacs) {
    const i = ctx.interfaces.find((x) => x.index === ifindex);
    if (i === undefined) continue;
    known++;
    // A bridge port or bond slave forwards frames with other sources: its MAC says nothing.
    if (i.master !== null || withMac([i]).length === 0) continue;
    const seen = macs.map((m) => m.toLowerCase());
    if (seen.includes(i.mac!.toLowerCase())) agreements.push(`ifindex ${ifindex} sends with ${i.name}'s MAC ${i.mac}`);
    else conflicts.push(`ifindex ${ifindex} is ${i.name} in the snapshot (MAC ${i.mac}), but the host sent on it with ${seen.join(', ')}`);
  }
  if (known === 0) conflicts.push(`none of the interfaces the capture shows the host sending on (ifindex ${[...facts.outgoingMacs.keys()].join(', ')}) exists in the snapshot`);
}

function checkLinks(ctx: HostContext, facts: CaptureFacts, agreements: string[], conflicts: string[]): void {
  // A macvlan network's children have MACs of their own and share their parent's wire: a capture of the parent shows their frames.
  const parents = new Set((ctx.dockerNetworks ?? []).filter((n) => n.driver === 'macvlan' && n.parent !== undefined).map((n) => n.parent!));
  for (const [name, macs] of facts.linkMacs) {
    const i = ctx.interfaces.find((x) => x.name === name);
    if (i === undefined || i.kind === 'bridge' || i.master !== null || parents.has(name) || withMac([i]).length === 0 || macs.length === 0) continue;
    const seen = macs.map((m) => m.toLowerCase());
    if (seen.includes(i.mac!.toLowerCase())) agreements.push(`frames on ${name} are from or to its MAC ${i.mac}`);
    else conflicts.push(`${name} has MAC ${i.mac} in the snapshot, but no frame captured on ${name} is from or to it`);
  }
}

/** The interfaces with a MAC of their own (not loopback, not all zeros). */
export function withMac(interfaces: readonly NetInterface[]): NetInterface[] {
  return interfaces.filter((i) => i.kind !== 'loopback' && i.mac !== null && i.mac !== '00:00:00:00:00:00');
}

function span(seconds: number): string {
  if (seconds >= 2 * 86400) return `${(seconds / 86400).toFixed(1)} days`;
  return `${(seconds / 3600).toFixed(1)} hours`;
}
