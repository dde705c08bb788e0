import type { HostContext } from '../context/host-context';
import type { ChainHook, NetfilterChain, NetfilterRule, NetfilterRuleset, RuleMatch } from '../context/netfilter-rules';
import { parseIptablesSave } from '../context/parse-iptables-save';
import { parseNftRuleset } from '../context/parse-nft-ruleset';
import { addressValue, parsePrefix, prefixContains, type Prefix } from './prefix';

/** The headers of one TCP packet as a chain sees them (after any DNAT of an earlier hook). */
export interface PacketView {
  src: string;
  dst: string;
  srcPort?: number;
  dstPort: number;
  /** Input / output interface; undefined when not known (the rule's interface match then may or may not apply). */
  inInterface?: string;
  outInterface?: string;
  /** Whether the destination / source is one of the host's addresses (addrtype LOCAL); undefined when unknown. */
  dstLocal?: boolean;
  srcLocal?: boolean;
  /**
   * The packet's conntrack state where the filter chains see it: a SYN, retransmitted or
   * not, is NEW until a reply passes (IPS_SEEN_REPLY); the SYN-ACK is ESTABLISHED.
   * Undefined when unknown (a `--ctstate` match then may or may not apply).
   */
  ctState?: 'NEW' | 'ESTABLISHED';
}

/** Does a rule apply to the packet: surely, surely not, or it depends on a match this reader does not model. */
export type Fit = 'yes' | 'no' | 'maybe';

/** Where a packet's walk through a table's chain ends. */
export interface Traversal {
  /** The verdict: a terminal target of the first rule that surely applies, or the built-in chain's policy. */
  verdict: string;
  /** The rule that gave it, or null when the policy did. */
  rule: NetfilterRule | null;
  /** Rules with a terminal target passed on the way that may apply (unmodelled matches), in order. */
  maybe: NetfilterRule[];
  /** traverseHook only: the base chain that gave the verdict (for ACCEPT, the last one walked), as its table key and name. */
  base?: { table: string; chain: NetfilterChain };
}

/** Which base chains traverseHook walks: those of one hook and chain type, optionally within a priority range. */
export interface HookQuery {
  hook: ChainHook['hook'];
  type: ChainHook['type'];
  /** Only base chains with a priority below this one (raw PREROUTING: below DNAT's -100, so it sees the destination as sent). */
  below?: number;
}

/** Targets that end a packet's walk through a table (RETURN ends a chain, not the walk). */
const TERMINAL = new Set(['ACCEPT', 'DROP', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'NETMAP', 'TPROXY', 'QUEUE', 'NFQUEUE']);
/** Chains are walked at most this deep (iptables itself refuses loops). */
const MAX_DEPTH = 16;

const rulesets = new WeakMap<HostContext, NetfilterRuleset>();

/**
 * The snapshot's netfilter rules: the tables `iptables-save` listed, plus the `ip` tables
 * of `nft list ruleset` that text does not have (on an iptables-nft host the snapshot's
 * iptables text holds only the nat table, and nft shows filter). Parsed once per snapshot.
 */
export function rulesetOf(ctx: HostContext): NetfilterRuleset {
  let ruleset = rulesets.get(ctx);
  if (ruleset === undefined) {
    ruleset = ctx.natRules.iptables === null ? new Map() : parseIptablesSave(ctx.natRules.iptables);
    if (ctx.natRules.nft !== null) {
      for (const [table, chains] of parseNftRuleset(ctx.natRules.nft)) if (!ruleset.has(table)) ruleset.set(table, chains);
    }
    rulesets.set(ctx, ruleset);
  }
  return ruleset;
}

/**
 * Walk a packet through every base chain of one hook and type, in priority order, as
 * nf_hook_slow does: each chain's ACCEPT (by a rule or its policy) only hands the packet
 * to the next base chain, while DROP, REJECT or a NAT verdict ends it there. So a drop in
 * a user's own nft table (Docker 29's advice in place of DOCKER-USER) wins over Docker's
 * accept in `ip docker-bridges`, and iptables' filter FORWARD and Docker 29's
 * filter-FORWARD both apply. IPv4 packets meet `ip` and `inet` tables, IPv6 ones `ip6` and
 * `inet`. Rules that may apply: for a chain that accepted, only those that could have
 * ended the walk otherwise (an ACCEPT there changes nothing); for the chain that ended it,
 * all. Null when no base chain of that hook is in the ruleset.
 */
export function traverseHook(ruleset: NetfilterRuleset, q: HookQuery, pkt: PacketView): Traversal | null {
  const v6 = pkt.dst.includes(':');
  const bases: { table: string; chain: NetfilterChain; order: number }[] = [];
  for (const [table, chains] of ruleset) {
    for (const chain of chains.values()) {
      const h = chain.hook;
      if (h === undefined || h.hook !== q.hook || h.type !== q.type || (q.below !== undefined && h.priority >= q.below)) continue;
      const family = chain.family ?? 'ip';
      if (family !== 'inet' && (family === 'ip6') !== v6) continue;
      bases.push({ table, chain, order: bases.length });
    }
  }
  if (bases.length === 0) return null;
  bases.sort((a, b) => a.chain.hook!.priority - b.chain.hook!.priority || a.order - b.order);
  const maybe: NetfilterRule[] = [];
  let accepted: Traversal | null = null;
  for (const { table, chain } of bases) {
    const inner: NetfilterRule[] = [];
    const end = walk(ruleset.get(table)!, chain, pkt, inner, 0);
    const verdict = end?.verdict ?? chain.policy ?? 'ACCEPT';
    const base = { table, chain };
    if (verdict !== 'ACCEPT') return { verdict, rule: end?.rule ?? null, maybe: [...maybe, ...inner], base };
    maybe.push(...inner.filter((r) => r.target !== 'ACCEPT'));
    // The accept to show is the last one a rule gave; a later chain's policy says less.
    if (accepted === null || end !== null || accepted.rule === null) accepted = { verdict, rule: end?.rule ?? null, maybe, base };
  }
  return accepted;
}

/**
 * Walk a packet through a built-in chain (FORWARD of filter, PREROUTING of nat...) as
 * ip_tables' ipt_do_table does: rules in order, a jump to a user chain comes back at its
 * end or on RETURN, a goto does not; the first terminal target of a rule that applies ends
 * the walk, else the chain's policy does. A rule that may apply (a match not modelled here)
 * is passed over and listed in `maybe`. Null when the table or chain is not in the ruleset.
 */
export function traverse(ruleset: NetfilterRuleset, table: string, chain: string, pkt: PacketView): Traversal | null {
  const chains = ruleset.get(table);
  const start = chains?.get(chain);
  if (chains === undefined || start === undefined) return null;
  const maybe: NetfilterRule[] = [];
  const end = walk(chains, start, pkt, maybe, 0);
  if (end !== null) return { ...end, maybe };
  return { verdict: start.policy ?? 'ACCEPT', rule: null, maybe };
}

/** The terminal verdict reached in this chain (and the chains it jumps to), or null when the walk returns. */
function walk(chains: Map<string, NetfilterChain>, chain: NetfilterChain, pkt: PacketView, maybe: NetfilterRule[], depth: number): { verdict: string; rule: NetfilterRule } | null {
  for (const rule of chain.rules) {
    const target = rule.target;
    if (target === null) continue;
    const fit = ruleFits(rule, pkt);
    if (fit === 'no') continue;
    const sub = chains.get(target);
    if (sub !== undefined && !TERMINAL.has(target)) {
      if (depth >= MAX_DEPTH) continue;
      const inner: NetfilterRule[] = [];
      const end = walk(chains, sub, pkt, inner, depth + 1);
      maybe.push(...inner);
      if (fit === 'yes' && end !== null) return end;
      if (fit === 'maybe' && end !== null) maybe.push(end.rule);
      if (fit === 'yes' && rule.goto) return null;
    } else if (target === 'RETURN') {
      if (fit === 'yes') return null;
    } else if (TERMINAL.has(target)) {
      if (fit === 'yes') return { verdict: target, rule };
      maybe.push(rule);
    }
    // Other targets (LOG, MARK, CONNMARK...) do not end the walk.
  }
  return null;
}

/** Whether the rule applies to the packet. */
export function ruleFits(rule: NetfilterRule, pkt: PacketView): Fit {
  if (rule.ipVersion !== undefined && (rule.ipVersion === 6) !== pkt.dst.includes(':')) return 'no';
  const fits: Fit[] = [
    rule.unknown.length > 0 ? 'maybe' : 'yes',
    matchFit(rule.source, (v) => addressIn(v, pkt.src)),
    matchFit(rule.destination, (v) => addressIn(v, pkt.dst)),
    matchFit(rule.inInterface, (v) => interfaceIs(v, pkt.inInterface)),
    matchFit(rule.outInterface, (v) => interfaceIs(v, pkt.outInterface)),
    matchFit(rule.protocol, (v) => v === 'tcp' || v === '6' || v === 'all' || v === '0'),
    matchFit(rule.sourcePort, (r) => (pkt.srcPort === undefined ? undefined : pkt.srcPort >= r.from && pkt.srcPort <= r.to)),
    matchFit(rule.destinationPort, (r) => pkt.dstPort >= r.from && pkt.dstPort <= r.to),
    matchFit(rule.destinationType, (t) => (t === 'LOCAL' ? pkt.dstLocal : undefined)),
    matchFit(rule.sourceType, (t) => (t === 'LOCAL' ? pkt.srcLocal : undefined)),
    matchFit(rule.ctState, (states) => (pkt.ctState === undefined ? undefined : states.includes(pkt.ctState))),
  ];
  return fits.includes('no') ? 'no' : fits.includes('maybe') ? 'maybe' : 'yes';
}

/** One match's fit: `test` says whether the value matches, undefined when it cannot tell. */
function matchFit<T>(m: RuleMatch<T> | undefined, test: (value: T) => boolean | undefined): Fit {
  if (m === undefined) return 'yes';
  const hit = test(m.value);
  if (hit === undefined) return 'maybe';
  return hit !== m.negated ? 'yes' : 'no';
}

/** Rule CIDRs parsed once: a ruleset has few, and a walk tests them once per rule per packet. */
const prefixes = new Map<string, Prefix | null>();

function addressIn(cidr: string, ip: string): boolean | undefined {
  let p = prefixes.get(cidr);
  if (p === undefined) {
    if (prefixes.size >= 65536) prefixes.clear();
    prefixes.set(cidr, (p = parsePrefix(cidr)));
  }
  const v = addressValue(ip);
  if (p === null || v === null) return undefined;
  return prefixContains(p, v);
}

/** iptables' "docker+" and nft's "veth*" are prefix wildcards. */
function interfaceIs(pattern: string, name: string | undefined): boolean | undefined {
  if (name === undefined) return undefined;
  if (pattern.endsWith('+') || pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return name === pattern;
}

const sourceFree = new WeakMap<HostContext, Map<string, boolean>>();

/**
 * True when no rule a packet can meet from the nat base chains of `hook` ("PREROUTING":
 * iptables' nat PREROUTING, Docker 29's nat-PREROUTING, and the chains they jump to)
 * looks at the source address (-s, --src-type, an unmodelled match), and no policy
 * routing rule does (`ip rule from`): then the translation and route of a SYN to a
 * service there does not depend on its client.
 */
export function natIgnoresSource(ctx: HostContext, hook: string): boolean {
  let byHook = sourceFree.get(ctx);
  if (byHook === undefined) sourceFree.set(ctx, (byHook = new Map()));
  let free = byHook.get(hook);
  if (free === undefined) {
    free = !ctx.rules.some((r) => r.from !== null);
    for (const [, chains] of rulesetOf(ctx)) {
      const seen = new Set<string>();
      const todo = [...chains.values()].filter((c) => c.hook?.type === 'nat' && c.hook.hook === hook.toLowerCase()).map((c) => c.name);
      while (free && todo.length > 0) {
        const name = todo.pop()!;
        if (seen.has(name)) continue;
        seen.add(name);
        for (const r of chains.get(name)?.rules ?? []) {
          if (r.source !== undefined || r.sourceType !== undefined || r.unknown.length > 0) free = false;
          if (r.target !== null && chains.has(r.target)) todo.push(r.target);
        }
      }
    }
    byHook.set(hook, free);
  }
  return free;
}

/** A rule as the report prints it: iptables-save's line, or nft's statement with its table and chain. */
export function ruleText(rule: NetfilterRule): string {
  return rule.origin === 'iptables-save' ? rule.text : `nft table ${nftTable(rule.table)} chain ${rule.chain}: ${rule.text}`;
}

/** A ruleset table key as nft names the table: "ip filter", "ip6 docker-bridges". */
export function nftTable(key: string): string {
  return /^(ip6|inet) /.test(key) ? key : `ip ${key}`;
}
