import type { HostContext, PolicyRule, Route } from '../context/host-context';
import { addressValue, parsePrefix, prefixContains, type AddressValue, type Prefix } from './prefix';

/** What the lookup is for: source address, input/output interface, firewall mark. */
export interface RouteLookupOptions {
  /** Source address; unset means unspecified (0.0.0.0 / ::), as for a socket not yet bound. */
  src?: string;
  /** Input interface; unset means locally generated, which the kernel matches as `iif lo`. */
  iif?: string;
  /** Output interface the socket is bound to (SO_BINDTODEVICE), or unset. */
  oif?: string;
  fwmark?: number;
}

/** The route the kernel would pick, or why there is none (blackhole, prohibit, no route...). */
export type RouteLookup = { route: Route; table: string; rule: PolicyRule | null } | NoRoute;

/**
 * No route, and why: `kind` is what the kernel does with a packet it forwards there (a
 * blackhole drops it silently; unreachable and prohibit answer ICMP host unreachable and
 * administratively prohibited, IPv6 no route and administratively prohibited; none answers
 * net unreachable, IPv6 no route), with the route or policy rule that decided it.
 */
export interface NoRoute {
  unreachable: string;
  kind: 'blackhole' | 'unreachable' | 'prohibit' | 'none';
  /** The blackhole, unreachable or prohibit route, and its table. */
  typedRoute?: { route: Route; table: string };
  rule?: PolicyRule;
}

const TABLE_NAMES: Record<string, string> = { '255': 'local', '254': 'main', '253': 'default' };

/**
 * The rules the kernel installs when nobody changed them: IPv4 has local (0), main (32766)
 * and default (32767) (net/ipv4/fib_rules.c fib_default_rules_init); IPv6 only local and
 * main (net/ipv6/fib6_rules.c fib6_default_rules_init).
 */
function defaultRules(family: 4 | 6): PolicyRule[] {
  const rule = (priority: number, table: string): PolicyRule => ({
    priority, family, from: null, to: null, iif: null, oif: null, fwmark: null, action: 'lookup', table, invert: false,
  });
  return family === 4 ? [rule(0, 'local'), rule(32766, 'main'), rule(32767, 'default')] : [rule(0, 'local'), rule(32766, 'main')];
}

/**
 * Simulate the kernel's route lookup (fib_rules_lookup, then fib_table_lookup) for `dst`
 * in a host-context snapshot. Policy rules are walked in priority order; a rule matches
 * on from/to, iif, oif and fwmark/mask, inverted by `not` (fib_rule_match, Linux 6.x).
 * Within a table the longest prefix wins, then the lowest metric, then the route listed
 * first (the kernel appends same-metric aliases, so the older one wins). A `throw` route
 * or no match in the table continues with the next rule (-EAGAIN); blackhole,
 * unreachable and prohibit routes or rule actions end the lookup. When the snapshot has
 * no rules for the family, the kernel's default rules apply and `rule` is null. The
 * snapshot is treated as immutable: its parsed tables are cached per object.
 */
export function lookupRoute(ctx: HostContext, dst: string, opts: RouteLookupOptions = {}): RouteLookup {
  const dstValue = addressValue(dst);
  if (dstValue === null) return { unreachable: `not an address: ${dst}`, kind: 'none' };
  const family = typeof dstValue === 'number' ? 4 : 6;
  // An unset source is the unspecified address, as in the kernel's flowi.
  const srcValue = (opts.src !== undefined ? addressValue(opts.src) : null) ?? (family === 4 ? 0 : 0n);
  const { rules, given } = rulesOf(ctx, family);
  for (const rule of rules) {
    if (!ruleMatches(rule, family, dstValue, srcValue, opts)) continue;
    switch (rule.action) {
      case 'lookup': {
        const table = tableName(rule.table ?? 'main');
        const found = lookupTable(ctx, table, family, dstValue, opts.oif);
        if (found === null || found.type === 'throw') continue;
        const r = given ? rule : null;
        if (found.type === 'blackhole' || found.type === 'unreachable' || found.type === 'prohibit') {
          return { unreachable: `${found.type} route ${found.destination} in table ${table}${r ? ` (rule ${r.priority})` : ''}`, kind: found.type, typedRoute: { route: found, table }, ...(r !== null && { rule: r }) };
        }
        return { route: found, table, rule: r };
      }
      case 'blackhole':
      case 'unreachable':
      case 'prohibit':
        return { unreachable: `policy rule ${rule.priority}: ${rule.action}`, kind: rule.action, rule };
      default:
        // nop, and goto (whose target the snapshot does not carry): go on with the next rule.
        continue;
    }
  }
  return { unreachable: `no route to ${dst}`, kind: 'none' };
}

/** The family's rules in priority order (stable), or the kernel defaults; computed once per snapshot. */
const sortedRules = new WeakMap<HostContext, Map<4 | 6, { rules: PolicyRule[]; given: boolean }>>();

function rulesOf(ctx: HostContext, family: 4 | 6): { rules: PolicyRule[]; given: boolean } {
  let byFamily = sortedRules.get(ctx);
  if (byFamily === undefined) {
    byFamily = new Map();
    for (const f of [4, 6] as const) {
      const given = ctx.rules.filter((r) => r.family === f).sort((a, b) => a.priority - b.priority);
      byFamily.set(f, given.length > 0 ? { rules: given, given: true } : { rules: defaultRules(f), given: false });
    }
    sortedRules.set(ctx, byFamily);
  }
  return byFamily.get(family)!;
}

function ruleMatches(rule: PolicyRule, family: 4 | 6, dst: AddressValue, src: AddressValue, opts: RouteLookupOptions): boolean {
  let match = true;
  if (rule.iif !== null && rule.iif !== (opts.iif ?? 'lo')) match = false;
  if (rule.oif !== null && rule.oif !== opts.oif) match = false;
  if (rule.fwmark !== null) {
    const [mark, mask] = parseMark(rule.fwmark);
    if (((mark ^ (opts.fwmark ?? 0)) & mask) !== 0) match = false;
  }
  if (rule.from !== null && !selectorContains(rule.from, family, src)) match = false;
  if (rule.to !== null && !selectorContains(rule.to, family, dst)) match = false;
  return rule.invert ? !match : match;
}

/** "0x1/0xff", "0x1" or "1"; the mask defaults to all ones (fib_nl2rule). */
function parseMark(text: string): [number, number] {
  const [m, k] = text.split('/');
  return [Number(m) >>> 0, k === undefined ? 0xffffffff : Number(k) >>> 0];
}

function selectorContains(cidr: string, family: 4 | 6, value: AddressValue): boolean {
  if (cidr === 'all') return true;
  const p = parsePrefix(cidr, family);
  return p !== null && p.version === family && prefixContains(p, value);
}

function tableName(t: string): string {
  return TABLE_NAMES[t] ?? t;
}

/** Routes by family and table, prefixes parsed, once per snapshot: rules look up once per flow. */
const routeTables = new WeakMap<HostContext, Map<string, { route: Route; prefix: Prefix }[]>>();

function tableRoutes(ctx: HostContext, family: 4 | 6, table: string): { route: Route; prefix: Prefix }[] {
  let tables = routeTables.get(ctx);
  if (tables === undefined) {
    tables = new Map();
    for (const route of ctx.routes) {
      const prefix = parsePrefix(route.destination, route.family);
      if (prefix === null || prefix.version !== route.family) continue;
      const key = `${route.family}|${tableName(route.table)}`;
      const list = tables.get(key);
      if (list === undefined) tables.set(key, [{ route, prefix }]);
      else list.push({ route, prefix });
    }
    routeTables.set(ctx, tables);
  }
  return tables.get(`${family}|${table}`) ?? [];
}

/** fib_table_lookup: longest prefix, then lowest metric, then first listed. */
function lookupTable(ctx: HostContext, table: string, family: 4 | 6, dst: AddressValue, oif: string | undefined): Route | null {
  let best: Route | null = null;
  let bestLength = -1;
  for (const { route: r, prefix: p } of tableRoutes(ctx, family, table)) {
    if (p.length < bestLength || !prefixContains(p, dst)) continue;
    // A socket bound to a device only takes routes through it (fib_table_lookup's oif check).
    if (oif !== undefined && r.device !== null && r.device !== oif && r.type === 'unicast') continue;
    if (p.length > bestLength || (p.length === bestLength && r.metric < best!.metric)) {
      best = r;
      bestLength = p.length;
    }
  }
  return best;
}
