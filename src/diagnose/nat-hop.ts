import type { DockerNetwork, HostContext } from '../context/host-context';
import type { AttemptPath } from '../flow/attempt-path';
import type { ServiceHop, ServicePath } from '../flow/service-path';
import { contextInterface, deviceOf, isLocalAddress, onLink, sameLink } from './context-facts';
import { plural } from './group';
import { holderOf } from './docker-holder';
import { nftTable, ruleText, rulesetOf, traverseHook, type PacketView, type Traversal } from './netfilter-walk';
import { lookupRoute, type RouteLookup } from './route-sim';

/**
 * What NAT stitching and the host context say about the hops of one service: where its
 * SYNs go after the first hop (known from other attempts, or predicted from the
 * snapshot's nat rules and routes), and what the snapshot says about the hop where an
 * attempt vanished (the NAT rule, the filter verdict between the hops, the reply route,
 * the bridge).
 */

/** nat PREROUTING (iptables) and nat-PREROUTING (Docker 29's nft table): where DNAT happens. */
export const DNAT_HOOK = { hook: 'prerouting', type: 'nat' } as const;
export const SNAT_HOOK = { hook: 'postrouting', type: 'nat' } as const;
/** filter FORWARD, DOCKER-USER and Docker 29's filter-FORWARD: the verdict between two interfaces. */
const FORWARD_HOOK = { hook: 'forward', type: 'filter' } as const;
/** raw (and mangle) PREROUTING: before DNAT (priority -100), where Docker 28+ drops direct access to containers. */
const RAW_HOOK = { hook: 'prerouting', type: 'filter', below: -100 } as const;

/** The verdict of the raw table for a packet Docker 28+ drops there: addressed to a container, arriving from outside its bridge. */
export const DIRECT_ACCESS_VERDICT = 'dropped in raw PREROUTING: direct access to a container address from outside its bridge';

/** The path SYNs to one service take from its first hop. */
export interface KnownPath {
  /** 'capture': other attempts to the service were stitched along it; 'context': the snapshot's nat rules and routes predict it. */
  source: 'capture' | 'context';
  hops: ServiceHop[];
  /** Attempts seen along it (0 for a prediction). */
  attempts: number;
  /** The NAT rule of a prediction, as printed. */
  rule?: string;
}

/** "ip:port" or "[v6]:port" → address and port. */
export function splitEndpoint(endpoint: string): { ip: string; port: number } {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(endpoint);
  return m === null ? { ip: endpoint, port: 0 } : { ip: m[1]!, port: Number(m[2]) };
}

/**
 * Paths other attempts took, by their first hop ("eth0|192.0.2.1:8080"): the stitched
 * attempts of the analysis (failed ones, any outcome) and the paths of completed ones.
 * When several paths start at one hop, the one most attempts took wins.
 */
export function knownPaths(attempts: readonly AttemptPath[], servicePaths: readonly ServicePath[]): Map<string, KnownPath> {
  const counted = new Map<string, KnownPath>();
  const add = (hops: readonly ServiceHop[], n: number) => {
    const key = hops.map((h) => `${h.interface}|${h.server}|${h.translation}`).join(' ');
    const known = counted.get(key);
    if (known !== undefined) known.attempts += n;
    else counted.set(key, { source: 'capture', hops: hops.map((h) => ({ interface: h.interface, server: h.server, translation: h.translation })), attempts: n });
  };
  for (const a of attempts) if (a.hops.length > 1) add(a.hops, 1);
  for (const p of servicePaths) if (p.hops.length > 1) add(p.hops, p.attempts);
  const byEntry = new Map<string, KnownPath>();
  for (const path of counted.values()) {
    const key = `${path.hops[0]!.interface}|${path.hops[0]!.server}`;
    const best = byEntry.get(key);
    if (best === undefined || path.attempts > best.attempts) byEntry.set(key, path);
  }
  return byEntry;
}

/**
 * The next hop the snapshot predicts for a SYN from `client` to `server` arriving on
 * `iface`, on the way to another captured interface: a local destination DNATed by nat
 * PREROUTING and routed out of a bridge (a published port); a forwarded one masqueraded
 * or SNATed by nat POSTROUTING (a container going out); or, untranslated, a container's
 * own address routed into its bridge. Null when the next device was not captured, or a
 * local destination meets no sure DNAT.
 */
export function predictPath(ctx: HostContext, client: string, server: string, iface: string, captured: readonly string[]): KnownPath | null {
  const ruleset = rulesetOf(ctx);
  const { ip, port } = splitEndpoint(server);
  const inDev = linkOf(ctx, iface);
  const local = isLocalAddress(ctx, ip);
  if (local) {
    const t = traverseHook(ruleset, DNAT_HOOK, { src: client, dst: ip, dstPort: port, inInterface: inDev, dstLocal: true, srcLocal: isLocalAddress(ctx, client) });
    const to = t?.verdict === 'DNAT' ? natTarget(t.rule?.toDestination, port) : null;
    if (to === null) return null;
    const next = capturedOn(ctx, deviceOf(lookupRoute(ctx, to.ip, { iif: inDev, src: client })), iface, captured);
    if (next === null) return null;
    return {
      source: 'context',
      attempts: 0,
      rule: ruleText(t!.rule!),
      hops: [
        { interface: iface, server, translation: 'none' },
        { interface: next, server: `${to.ip}:${to.port}`, translation: 'dnat' },
      ],
    };
  }
  const dev = deviceOf(lookupRoute(ctx, ip, { iif: inDev, src: client }));
  const next = capturedOn(ctx, dev, iface, captured);
  if (next === null) return null;
  const t = traverseHook(ruleset, SNAT_HOOK, { src: client, dst: ip, dstPort: port, inInterface: inDev, outInterface: dev!, dstLocal: false, srcLocal: false });
  if (t === null || (t.verdict !== 'MASQUERADE' && t.verdict !== 'SNAT') || t.rule === null) {
    // A container's own address dialled from outside (incident 004's path): routed into its bridge untranslated.
    if (contextInterface(ctx, dev!)?.kind !== 'bridge' || t?.maybe.some((r) => r.target === 'MASQUERADE' || r.target === 'SNAT')) return null;
    // Between two machines of the bridge's own subnet the host routes nothing: a frame seen on an
    // interface the snapshot does not name (a file named after itself) may be bridged there.
    if (contextInterface(ctx, iface) === undefined && onLink(contextInterface(ctx, dev!), client)) return null;
    return {
      source: 'context',
      attempts: 0,
      hops: [
        { interface: iface, server, translation: 'none' },
        { interface: next, server, translation: 'none' },
      ],
    };
  }
  return {
    source: 'context',
    attempts: 0,
    rule: ruleText(t.rule),
    hops: [
      { interface: iface, server, translation: 'none' },
      { interface: next, server, translation: 'snat' },
    ],
  };
}

/** Some nat rule of the snapshot DNATs to ip:port (a published port's target). */
export function isDnatTarget(ctx: HostContext, ip: string, port: number): boolean {
  for (const chains of rulesetOf(ctx).values()) {
    for (const chain of chains.values()) {
      for (const r of chain.rules) {
        if (r.target !== 'DNAT') continue;
        const to = natTarget(r.toDestination, -1);
        if (to !== null && to.ip === ip && to.port === port) return true;
      }
    }
  }
  return false;
}

/** DNAT's "172.17.0.2:80", "172.17.0.2" (port kept), "172.17.0.2-172.17.0.9:80-90" (the first of each range), "[fd00::2]:80". */
export function natTarget(text: string | undefined, port: number): { ip: string; port: number } | null {
  if (text === undefined) return null;
  const m = /^(\d+\.\d+\.\d+\.\d+)(?:-[\d.]+)?(?::(\d+)(?:-\d+)?)?$/.exec(text) ?? /^\[([0-9a-fA-F:.]+)\](?::(\d+)(?:-\d+)?)?$/.exec(text);
  return m === null ? null : { ip: m[1]!, port: m[2] === undefined ? port : Number(m[2]) };
}

/** The captured interface on the same link as `dev` (the device itself or one of its bridge ports), other than `from`. */
function capturedOn(ctx: HostContext, dev: string | null, from: string, captured: readonly string[]): string | null {
  if (dev === null || sameLink(ctx, dev, from)) return null;
  return captured.find((c) => c !== from && sameLink(ctx, c, dev)) ?? null;
}

/** The device routing and netfilter see for a captured interface: its bridge when it is a bridge port. */
export function linkOf(ctx: HostContext, iface: string): string {
  const i = contextInterface(ctx, iface);
  return i !== undefined && i.master !== null && contextInterface(ctx, i.master)?.kind === 'bridge' ? i.master : iface;
}

/** What the snapshot says about one hop of a broken path (evidence fields, and the sentences that explain them). */
export interface HopFacts {
  evidence: Record<string, unknown>;
  sentences: string[];
  /** A filter rule (or policy) that surely drops the packet between the hops, as printed; null when none. */
  dropRule: string | null;
  /** Commands that watch (and undo) that rule. */
  dropRemedy: string[];
}

/** The packet that vanished, where, and what to look up about it. */
export interface HopQuery {
  /** The packet as the next hop would see it (after DNAT, before SNAT), in its direction of travel. */
  packet: { src: string; dst: string; dstPort: number };
  /** True when the packet is the reply (the SYN-ACK: conntrack ESTABLISHED); otherwise it is the SYN (NEW). */
  established?: boolean;
  /** The interface it was last seen on, and the one it never reached (null: past the captured hops). */
  from: string;
  to: string | null;
  /** Its destination before DNAT and where it came in: find the DNAT rule (nat PREROUTING). */
  dnatOf?: { dst: string; dstPort: number; iif: string };
  /** Its source before SNAT and where it came in: find the MASQUERADE/SNAT rule (nat POSTROUTING) and the route to the server. */
  snatOf?: { src: string; iif: string };
  /** The client, the address that replies to it, the interface the reply starts from and the one it should leave by (where the SYN came in): the reply route. */
  reply?: { client: string; from: string; iif: string; back: string };
}

/**
 * Facts from the snapshot about a packet that vanished between `from` and `to`: the NAT
 * rule that translated it, the filter FORWARD verdict for it between the two devices
 * (iptables-save's filter table, or nft's on an iptables-nft host), the reply route, the
 * route to the server, and the bridge of the next hop (or of the last one when the
 * packet went into a bridge and no further).
 */
export function hopFacts(ctx: HostContext, q: HopQuery): HopFacts {
  const ruleset = rulesetOf(ctx);
  const evidence: Record<string, unknown> = {};
  const sentences: string[] = [];
  const { src, dst, dstPort } = q.packet;
  const inDev = linkOf(ctx, q.from);
  const outDev = q.to === null ? null : linkOf(ctx, q.to);

  if (q.dnatOf !== undefined) {
    const o = q.dnatOf;
    const t = traverseHook(ruleset, DNAT_HOOK, { src, dst: o.dst, dstPort: o.dstPort, inInterface: linkOf(ctx, o.iif), dstLocal: isLocalAddress(ctx, o.dst) });
    const rules = natRules(t, 'DNAT');
    if (t !== null) evidence['dnatRules'] = rules;
    if (rules.length > 0) sentences.push(`The snapshot's nat rule ${quote(rules[0]!)} translates ${o.dst}:${o.dstPort}${rules.length > 1 ? ` (${plural(rules.length - 1, 'other rule')} may apply)` : ''}.`);
  }
  if (q.snatOf !== undefined) {
    // POSTROUTING sees the packet leaving by `to`, or by `from` when that is where it left.
    const t = traverseHook(ruleset, SNAT_HOOK, { src: q.snatOf.src, dst, dstPort, outInterface: outDev ?? inDev, srcLocal: false, dstLocal: false });
    const rules = natRules(t, 'MASQUERADE', 'SNAT');
    if (t !== null) evidence['snatRules'] = rules;
    if (rules.length > 0) sentences.push(`The snapshot's nat rule ${quote(rules[0]!)} rewrites the source ${q.snatOf.src}.`);
    const toServer = lookupRoute(ctx, dst, { iif: linkOf(ctx, q.snatOf.iif), src: q.snatOf.src });
    evidence['routeToServer'] = routeText(dst, toServer);
  }

  let dropRule: string | null = null;
  const dropRemedy: string[] = [];
  const raw = outDev === null ? null : rawTraversal(ctx, q);
  if (raw !== null && isDrop(raw)) {
    const by = verdictBy(raw);
    const p = arrival(ctx, q);
    const direct = isDirectAccessDrop(raw);
    dropRule = by;
    evidence['rawVerdict'] = direct ? DIRECT_ACCESS_VERDICT : `${raw.verdict === 'DROP' ? 'dropped' : 'rejected'} in raw PREROUTING`;
    evidence['rawVerdictBy'] = by;
    const packet = `${p.src} → ${p.dst}:${p.dstPort} arriving on ${p.inInterface}`;
    if (direct) {
      sentences.push(
        `Dropped in raw PREROUTING: direct access to a container address from outside its bridge. The snapshot's rule ${quote(by)} applies to ${packet}, before any DNAT: ` +
          'Docker 28 and later drop every packet addressed to a container itself unless it comes from the container\'s own bridge (gateway mode "nat"); only the published port on the host\'s address is reachable from outside.',
      );
      dropRemedy.push(
        `Dial the published port on the host's address instead of the container's address (docker run -p HOST_PORT:${p.dstPort}); a peer that learned the container's bridge address (a cluster announcing it) must be told a routable one.`,
        'If direct routing to the container is intended, create its network with -o com.docker.network.bridge.gateway_mode_ipv4=nat-unprotected (or routed, without masquerade); Docker then leaves out this rule.',
      );
    } else {
      sentences.push(`The snapshot's raw PREROUTING rules ${raw.verdict === 'DROP' ? 'drop' : 'reject'} it before any DNAT: ${quote(by)} applies to ${packet}.`);
      dropRemedy.push(...undoRule(raw.rule));
    }
  } else if (outDev !== null) {
    const fwd = forwardTraversal(ctx, q);
    if (fwd === null) {
      evidence['forwardVerdict'] = null;
      sentences.push('The snapshot has no base chain on the forward hook to check (iptables-save listed no *filter table, nft no filter chain hooked to forward).');
    } else {
      const maybeDrops = fwd.maybe.filter((r) => r.target === 'DROP' || r.target === 'REJECT').map(ruleText);
      const maybeAccepts = fwd.maybe.filter((r) => r.target === 'ACCEPT').map(ruleText);
      const by = verdictBy(fwd);
      const dropped = isDrop(fwd);
      evidence['forwardVerdict'] = fwd.verdict;
      evidence['forwardVerdictBy'] = by;
      evidence['forwardDrops'] = [...(dropped ? [by] : []), ...maybeDrops];
      const packet = `${src} → ${dst}:${dstPort} from ${inDev} to ${outDev}`;
      const byText = fwd.rule === null ? by : quote(by);
      if (dropped) {
        dropRule = by;
        const baseName = fwd.base?.chain.name ?? 'FORWARD';
        const chain = fwd.rule !== null && fwd.rule.chain !== baseName ? ` (chain ${fwd.rule.chain}, reached from ${baseName})` : '';
        sentences.push(`The snapshot's filter rules ${fwd.verdict === 'DROP' ? 'drop' : 'reject'} it: ${byText} applies to ${packet}${chain}.`);
        const apart = isDockerOwned(fwd.rule) ? networksApart(ctx, inDev, outDev) : null;
        if (apart !== null) sentences.push(`Docker keeps its networks apart: ${apart.from.name} (${inDev}) and ${apart.to.name} (${outDev}) are two networks, and traffic between them is dropped unless a container is on both.`);
        dropRemedy.push(...(apart !== null ? isolationRemedy(ctx, apart, src, dst) : forwardDropRemedy(fwd, { inDev, outDev, dst, dstPort, dnat: q.dnatOf !== undefined, fromBridge: (ctx.dockerNetworks ?? []).some((n) => n.bridge === inDev) })));
      } else if (fwd.verdict === 'DROP' || fwd.verdict === 'REJECT') {
        sentences.push(
          `The snapshot's filter rules may ${fwd.verdict === 'DROP' ? 'drop' : 'reject'} ${packet} (${byText}), unless an earlier rule accepts it first (a match synscope does not model): ${maybeAccepts.map(quote).join('; ')}.`,
        );
      } else {
        const unless = maybeDrops.length > 0 ? `, unless one of these applies (a match synscope does not model): ${maybeDrops.map(quote).join('; ')}` : '';
        sentences.push(`The snapshot's filter rules let ${packet} through (${byText})${unless}.`);
      }
    }
  }

  // Bridged between two ports of one bridge, a packet is not routed: IP forwarding plays no part.
  if (dropRule === null && outDev !== null && outDev !== inDev) {
    const off = forwardingOff(ctx, inDev, dst);
    if (off !== null) {
      dropRule = off.setting;
      evidence['forwarding'] = off.setting;
      sentences.unshift(
        `The host ${off.onAgain ? 'did' : 'does'} not forward IPv4 from ${inDev} (${off.setting}${off.onAgain ? '' : ' in the snapshot'}): a packet for another machine's address, here ${dst} behind ${outDev}, is dropped without an ICMP and counted as Ip.InAddrErrors. ` +
          'Docker turns forwarding on when dockerd starts; something turned it off since (a sysctl file applied later, a network service restarted, a hardening script).',
      );
      dropRemedy.push(
        ...(off.onAgain ? [] : [`Turn forwarding back on: sysctl -w ${off.fix}.`]),
        `Keep it on: find what sets it to 0 (grep -rs forward /etc/sysctl.conf /etc/sysctl.d /run/sysctl.d /usr/lib/sysctl.d /etc/network /etc/NetworkManager) and set 1 there, or add "${off.fix.replace('=', ' = ')}" to /etc/sysctl.d/99-forward.conf; restarting dockerd turns net.ipv4.ip_forward on again, but not a per-interface setting.`,
      );
    }
  }

  if (q.reply !== undefined) {
    const r = q.reply;
    const route = lookupRoute(ctx, r.client, { src: r.from, iif: linkOf(ctx, r.iif) });
    evidence['replyRoute'] = routeText(r.client, route);
    const device = deviceOf(route);
    if (device !== null && !sameLink(ctx, device, r.back)) {
      sentences.push(`The reply would not go back the way the SYN came (${r.back}): ${routeText(r.client, route)}.`);
    }
  }
  const bridgeName = outDev ?? (q.snatOf === undefined ? inDev : null);
  const bridge = bridgeName === null ? undefined : contextInterface(ctx, bridgeName);
  if (bridge !== undefined && bridge.kind === 'bridge') {
    evidence['bridge'] = { name: bridge.name, addresses: bridge.addresses.map((a) => `${a.address}/${a.prefixLength}`), ports: bridge.ports, up: bridge.up };
    if (!bridge.up) sentences.push(`The bridge ${bridge.name} is down.`);
  }
  return { evidence, sentences, dropRule, dropRemedy };
}

/**
 * The walk of the forward hook's filter chains for the packet between the hops; null when
 * it went no further than `from` or the snapshot has no such chain (an IPv6 packet meets
 * only ip6 and inet tables: iptables-save's text is IPv4).
 */
function forwardTraversal(ctx: HostContext, q: HopQuery): Traversal | null {
  if (q.to === null) return null;
  const { src, dst, dstPort } = q.packet;
  const ctState = q.established === true ? 'ESTABLISHED' : 'NEW';
  return traverseHook(rulesetOf(ctx), FORWARD_HOOK, { src, dst, dstPort, inInterface: linkOf(ctx, q.from), outInterface: linkOf(ctx, q.to), srcLocal: false, dstLocal: false, ctState });
}

/** The packet as it arrived on the host: before DNAT (its original destination) and SNAT, on the interface it came in by. */
function arrival(ctx: HostContext, q: HopQuery): PacketView & { inInterface: string } {
  const dst = q.dnatOf?.dst ?? q.packet.dst;
  return {
    src: q.snatOf?.src ?? q.packet.src,
    dst,
    dstPort: q.dnatOf?.dstPort ?? q.packet.dstPort,
    inInterface: linkOf(ctx, q.dnatOf?.iif ?? q.snatOf?.iif ?? q.from),
    dstLocal: isLocalAddress(ctx, dst),
  };
}

/** The walk of the prerouting chains before DNAT (raw, mangle) for the packet as it arrived; null when it went no further than `from`. */
function rawTraversal(ctx: HostContext, q: HopQuery): Traversal | null {
  if (q.to === null) return null;
  return traverseHook(rulesetOf(ctx), RAW_HOOK, arrival(ctx, q));
}

/**
 * Docker's own direct-access rule (iptabler's filterDirectAccess: `-A PREROUTING -d
 * 172.17.0.2/32 ! -i docker0 -j DROP`; nftabler's `ip daddr 172.17.0.2 iifname !=
 * "docker0" drop`): a destination address, any interface but one.
 */
function isDirectAccessDrop(t: Traversal): boolean {
  const r = t.rule;
  return r !== null && r.destination !== undefined && !r.destination.negated && r.inInterface?.negated === true && r.source === undefined;
}

/**
 * The rule (or base chain policy) that surely drops the packet between the hops, as
 * printed: raw PREROUTING's first (it comes before DNAT and routing), then the forward
 * hook's filter chains. Null when none does.
 */
export function forwardDrop(ctx: HostContext, q: HopQuery): string | null {
  const raw = rawTraversal(ctx, q);
  if (raw !== null && isDrop(raw)) return verdictBy(raw);
  const fwd = forwardTraversal(ctx, q);
  if (fwd === null || !isDrop(fwd)) return null;
  return verdictBy(fwd);
}

/** The rule that gave a walk's verdict as printed, or the policy of its base chain ("the FORWARD policy DROP", "the policy DROP of nft chain ip fw forward"). */
function verdictBy(t: Traversal): string {
  if (t.rule !== null) return ruleText(t.rule);
  const base = t.base;
  if (base === undefined || isIptablesForward(base)) return `the FORWARD policy ${t.verdict}`;
  if (base.table === 'raw' && base.chain.name === 'PREROUTING') return `the raw PREROUTING policy ${t.verdict}`;
  return `the policy ${t.verdict} of nft chain ${nftTable(base.table)} ${base.chain.name}`;
}

/** iptables' (or ip6tables') own FORWARD chain, as iptables-save or iptables-nft's nft tables show it: Docker's policy, not a chain of the host's own nft ruleset. */
function isIptablesForward(base: NonNullable<Traversal['base']>): boolean {
  return /^(ip6 )?filter$/.test(base.table) && base.chain.name === 'FORWARD';
}

/** A sure drop: the walk ended in DROP or REJECT and no rule passed over on the way may have accepted the packet first. */
function isDrop(fwd: Traversal): boolean {
  return (fwd.verdict === 'DROP' || fwd.verdict === 'REJECT') && !fwd.maybe.some((r) => r.target === 'ACCEPT');
}

/** The translating rule a nat walk ended on, then the ones that may apply, as printed. */
function natRules(t: Traversal | null, ...targets: string[]): string[] {
  if (t === null) return [];
  const sure = t.rule !== null && targets.includes(t.verdict) ? [ruleText(t.rule)] : [];
  return [...sure, ...t.maybe.filter((r) => r.target !== null && targets.includes(r.target)).map(ruleText)];
}

/**
 * Docker's own chains (all but DOCKER-USER, and Docker 29's docker-bridges tables): Docker
 * writes them again on every change, so deleting a rule there is no fix.
 */
function isDockerOwned(rule: Traversal['rule']): boolean {
  if (rule === null) return false;
  if (rule.origin === 'nft' && /(^| )docker-bridges$/.test(rule.table)) return true;
  return rule.table === 'filter' && rule.chain.startsWith('DOCKER') && rule.chain !== 'DOCKER-USER';
}

/** The two Docker networks whose bridges a packet went between, or null when either is not a Docker network's bridge. */
function networksApart(ctx: HostContext, inDev: string, outDev: string): { from: DockerNetwork; to: DockerNetwork } | null {
  const of = (dev: string) => (ctx.dockerNetworks ?? []).find((n) => n.bridge === dev);
  const from = of(inDev);
  const to = of(outDev);
  return from === undefined || to === undefined || from === to ? null : { from, to };
}

/** Docker's way for containers of two networks to talk: one of them joins the other's network. */
function isolationRemedy(ctx: HostContext, apart: { from: DockerNetwork; to: DockerNetwork }, client: string, server: string): string[] {
  const cli = holderOf(ctx, client) ?? 'CLIENT_CONTAINER';
  const srv = holderOf(ctx, server);
  return [
    `Put the client's container on the server's network: docker network connect ${apart.to.name} ${cli}   (then it reaches ${srv ?? server} there${srv === null ? '' : `, by name or at ${server}`}; Docker's isolation rule is rewritten on every change, so deleting it does not last)`,
    `Or, in compose, give both services a network in common (networks: in each service), or publish the port and dial the host's address.`,
  ];
}

/** What to do about a forward-hook drop: Docker's own rule, an nft base chain's policy, or a rule someone wrote. */
function forwardDropRemedy(fwd: Traversal, p: { inDev: string; outDev: string; dst: string; dstPort: number; dnat: boolean; fromBridge: boolean }): string[] {
  if (isDockerOwned(fwd.rule)) return dockerDropRemedy(fwd.rule!, p.dstPort);
  const base = fwd.base;
  if (fwd.rule !== null || base === undefined || base.chain.hook === undefined || isIptablesForward(base) || /(^| )docker-bridges$/.test(base.table)) return undoRule(fwd.rule);
  // A policy of the host's own nft chain (nftables.conf, firewalld): every base chain on the hook must accept.
  const chain = `${nftTable(base.table)} ${base.chain.name}`;
  // Docker's own accepts, said in nft: what its DNAT sends to a bridge (published ports), what a bridge's containers send out.
  const [accept, what] = p.dnat
    ? [`oifname "${p.outDev}" ct status dnat accept`, `what Docker's DNAT sends to ${p.outDev}, its published ports`]
    : p.fromBridge
      ? [`iifname "${p.inDev}" oifname != "${p.inDev}" accept`, `what the containers of ${p.inDev} send out, as Docker's own FORWARD rule does`]
      : [`iifname "${p.inDev}" oifname "${p.outDev}" ${p.dst.includes(':') ? 'ip6' : 'ip'} daddr ${p.dst} tcp dport ${p.dstPort} accept`, `this traffic`];
  return [
    `Accept it in that chain, whose policy drops it whatever Docker's own chains accept (a packet must pass every base chain on the forward hook); this accepts ${what}: nft insert rule ${chain} ${accept}.`,
    `And the replies: nft insert rule ${chain} iifname "${p.outDev}" ct state established,related accept.`,
    `Put both in the file that defines ${chain} (/etc/nftables.conf, or the firewall's own configuration): loading it again drops rules added by hand.`,
  ];
}

function dockerDropRemedy(rule: NonNullable<Traversal['rule']>, port: number): string[] {
  return [
    `${ruleText(rule)} is Docker's own rule: it drops what reaches a container on a port that is not published (or a network that isolates it). Deleting it does not last; publish the port instead (docker run -p HOST_PORT:${port}, or ports: in compose), or, for direct routing to containers, create the network with -o com.docker.network.bridge.gateway_mode_ipv4=routed (or nat-unprotected).`,
  ];
}

/** How to watch (and, when it should not be there, remove) the rule that drops the packet. */
export function undoRule(rule: Traversal['rule']): string[] {
  if (rule === null) return [];
  if (rule.origin === 'nft') {
    const chain = `${nftTable(rule.table)} ${rule.chain}`;
    return [
      `Watch its counter while a client retries: nft list chain ${chain}. If these clients should reach the service, delete or narrow it (nft -a list chain ${chain} shows its handle; iptables-nft users can use iptables -L ${rule.chain} --line-numbers and iptables -D ${rule.chain} N).`,
    ];
  }
  return [
    `Watch its counter while a client retries: iptables${rule.table === 'filter' ? '' : ` -t ${rule.table}`} -L ${rule.chain} -v -n --line-numbers.`,
    `If these clients should reach the service, delete or narrow the rule: iptables${rule.table === 'filter' ? '' : ` -t ${rule.table}`} ${rule.text.replace(/^-A /, '-D ')}.`,
  ];
}

export function routeText(dst: string, r: RouteLookup): string {
  if (!('route' in r)) return `${dst}: ${r.unreachable}`;
  const via = r.route.gateway === null ? '' : ` via ${r.route.gateway}`;
  return `${dst}${via} dev ${r.route.device ?? '?'} (route ${r.route.destination}, table ${r.table})`;
}

function quote(rule: string): string {
  return `\`${rule}\``;
}

/**
 * IPv4 forwarding off for a packet arriving on `inDev` for `dst`, an address not the host's:
 * the global switch (which sets every interface's) or the arriving interface's own
 * (ip_route_input_slow checks the input device; ip_error then drops the packet silently).
 */
function forwardingOff(ctx: HostContext, inDev: string, dst: string): { setting: string; fix: string; onAgain: boolean } | null {
  if (!dst.includes('.') || isLocalAddress(ctx, dst)) return null;
  const own = `net.ipv4.conf.${inDev.replace(/\./g, '/')}.forwarding`;
  for (const name of ['net.ipv4.ip_forward', own]) {
    if (ctx.sysctls[name] === '0') return { setting: `${name} = 0`, fix: `${name}=1`, onAgain: false };
  }
  // Off when a live capture started and on at its end (someone turned it on meanwhile): the
  // SYNs before that were dropped for it, and what is left to do is keep it on.
  for (const name of ['net.ipv4.ip_forward', own]) {
    const change = ctx.sysctlChanges?.find((c) => c.name === name && c.atStart === '0');
    if (change !== undefined) return { setting: `${name} = 0 when the capture started (${change.atEnd} at its end)`, fix: `${name}=1`, onAgain: true };
  }
  return null;
}
