/**
 * Netfilter rules as the diagnosis reads them: per table, per chain, in order, each with
 * the few matches a TCP handshake's path depends on (addresses, interfaces, protocol,
 * ports, address type) and its target. Two sources give them: `iptables-save` text
 * (parse-iptables-save.ts) and `nft list ruleset` text (parse-nft-ruleset.ts): the
 * tables iptables-nft keeps there, and native nftables tables such as Docker 29's
 * `ip docker-bridges`. Base chains carry their hook and priority, because every base
 * chain on a hook sees the packet (netfilter-walk.ts's traverseHook).
 */

/** One match of a rule, possibly inverted (`! -s 10.0.0.0/8`, `iifname != "docker0"`). */
export interface RuleMatch<T = string> {
  readonly value: T;
  readonly negated: boolean;
}

/** An inclusive port range (`--dport 8080` is 8080-8080, `--dport 1024:2048` a range). */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export interface NetfilterRule {
  readonly table: string;
  readonly chain: string;
  /** The rule as its source printed it ("-A DOCKER-USER -s 198.51.100.0/24 -j DROP", or nft's statement). */
  readonly text: string;
  readonly origin: 'iptables-save' | 'nft';
  readonly source?: RuleMatch;
  readonly destination?: RuleMatch;
  /** Interface names; a trailing "+" (iptables) or "*" (nft) is a prefix wildcard. */
  readonly inInterface?: RuleMatch;
  readonly outInterface?: RuleMatch;
  /** Lower-case protocol name or number ("tcp", "udp", "6"). */
  readonly protocol?: RuleMatch;
  readonly sourcePort?: RuleMatch<PortRange>;
  readonly destinationPort?: RuleMatch<PortRange>;
  /** addrtype / fib address types, upper case ("LOCAL"). */
  readonly sourceType?: RuleMatch;
  readonly destinationType?: RuleMatch;
  /** Conntrack states, upper case (`-m conntrack --ctstate RELATED,ESTABLISHED`, `-m state --state`, nft's `ct state`). */
  readonly ctState?: RuleMatch<readonly string[]>;
  /** Set when the rule only matches one IP version (nft's `ip saddr` / `ip6 daddr` in an inet table). */
  readonly ipVersion?: 4 | 6;
  /** Matches this reader does not model (sets, marks, connection counts...): the rule may or may not apply. */
  readonly unknown: readonly string[];
  /** ACCEPT, DROP, REJECT, RETURN, DNAT, SNAT, MASQUERADE, a user chain, another target; null: none (counts only). */
  readonly target: string | null;
  /** `-g` / `goto`: the chain does not return here. */
  readonly goto: boolean;
  /** DNAT's --to-destination ("172.17.0.2:80"), SNAT's --to-source. */
  readonly toDestination?: string;
  readonly toSource?: string;
}

/** The address family of a table: iptables-save's tables are `ip`. */
export type TableFamily = 'ip' | 'ip6' | 'inet';

/** Where a base chain hooks into the stack: hook, chain type and priority (nft's numbers; iptables' tables have fixed ones). */
export interface ChainHook {
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  readonly type: 'filter' | 'nat' | 'route';
  readonly priority: number;
}

export interface NetfilterChain {
  readonly name: string;
  /** Built-in chains: ACCEPT or DROP; user chains: null. */
  policy: string | null;
  readonly rules: NetfilterRule[];
  family?: TableFamily;
  /** Base chains only. */
  hook?: ChainHook;
}

/**
 * Chains by name, per table. `ip` tables are keyed by their name ("filter", "nat",
 * "docker-bridges"), others by family and name ("ip6 docker-bridges", "inet fw").
 */
export type NetfilterRuleset = Map<string, Map<string, NetfilterChain>>;

/** The ruleset key of a table. */
export function tableKey(family: TableFamily, name: string): string {
  return family === 'ip' ? name : `${family} ${name}`;
}

/**
 * Priorities of the standard hooks (include/uapi/linux/netfilter_ipv4.h NF_IP_PRI_*),
 * by nft's names; iptables' tables register at the same values.
 */
export const HOOK_PRIORITY: Readonly<Record<string, number>> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

/** The chain of that table, created empty on first use (rules may name a chain before its header). */
export function chainOf(ruleset: NetfilterRuleset, table: string, name: string): NetfilterChain {
  let chains = ruleset.get(table);
  if (chains === undefined) ruleset.set(table, (chains = new Map()));
  let chain = chains.get(name);
  if (chain === undefined) chains.set(name, (chain = { name, policy: null, rules: [] }));
  return chain;
}

/** `8080`, `1024:2048` (iptables) or `1024-2048` (nft); null when it is not a port or range. */
export function parsePortRange(text: string): PortRange | null {
  const m = /^(\d+)(?:[:-](\d+))?$/.exec(text);
  if (m === null) return null;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return from <= to && to <= 65535 ? { from, to } : null;
}
