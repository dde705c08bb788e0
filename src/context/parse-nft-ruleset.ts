import { chainOf, HOOK_PRIORITY, parsePortRange, tableKey, type ChainHook, type NetfilterRule, type NetfilterRuleset, type RuleMatch, type TableFamily } from './netfilter-rules';

/**
 * The `ip`, `ip6` and `inet` tables of `nft list ruleset` text as rules per table and
 * chain: the tables iptables-nft keeps (filter with FORWARD, DOCKER-USER, DOCKER...,
 * under iptables' own names) and native ones such as Docker 29's `ip docker-bridges`
 * (filter-FORWARD, raw-PREROUTING, nat-PREROUTING...). Base chains give their hook,
 * type, priority and policy. Statements read: `iifname`/`oifname`, `ip|ip6 saddr|daddr`,
 * `ip protocol`/`meta l4proto`, `tcp|udp dport|sport`, `fib daddr|saddr type`, `ct state`,
 * each with `!=`; verdicts accept, drop, reject, return, jump, goto, dnat to, snat to, masquerade.
 * A verdict map on one key (`oifname vmap @filter-forward-in-jumps`, Docker 29's way to
 * reach a bridge's chains) becomes one rule per element, in order: a packet meets at most
 * one element, so the walk is the same. Any other statement (sets, marks, ct status) goes
 * to `unknown`; counters are left out of the text. Other families (bridge, arp, netdev)
 * are not modelled.
 */
export function parseNftRuleset(text: string): NetfilterRuleset {
  const ruleset: NetfilterRuleset = new Map();
  /** Rule lines in order; parsed once every map of their table is known. */
  const lines: { table: string; chain: string; line: string }[] = [];
  const maps = new Map<string, Map<string, VerdictMapElement[]>>();
  let table: string | null = null;
  let family: TableFamily = 'ip';
  let chain: string | null = null;
  let depth = 0;
  /** Depth of a block being skipped (a set, a table of another family), or -1. */
  let skipping = -1;
  /** A map block being read: its name, its text so far and its brace depth. */
  let map: { name: string; text: string; depth: number } | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (map !== null) {
      map.text += ` ${line}`;
      map.depth += count(line, '{') - count(line, '}');
      if (map.depth <= 0) {
        const elements = verdictMapElements(map.text);
        if (elements !== null && table !== null) maps.get(table)!.set(map.name, elements);
        map = null;
        depth--;
      }
      continue;
    }
    const opens = line.endsWith('{');
    const closes = line === '}';
    if (skipping >= 0) {
      if (opens) depth++;
      if (closes && --depth === skipping) skipping = -1;
      continue;
    }
    if (closes) {
      depth--;
      if (chain !== null) chain = null;
      else table = null;
      continue;
    }
    if (opens) {
      const head = line.slice(0, -1).trim().split(/\s+/);
      if (table === null && head[0] === 'table' && isFamily(head[1]) && head[2] !== undefined) {
        family = head[1];
        table = tableKey(family, head[2]);
        if (!ruleset.has(table)) ruleset.set(table, new Map());
        if (!maps.has(table)) maps.set(table, new Map());
      } else if (table !== null && chain === null && head[0] === 'chain' && head[1] !== undefined) {
        chain = head[1];
        chainOf(ruleset, table, chain).family = family;
      } else if (table !== null && chain === null && head[0] === 'map' && head[1] !== undefined) {
        map = { name: head[1], text: '', depth: 1 };
      } else {
        skipping = depth;
      }
      depth++;
      continue;
    }
    if (table === null || chain === null) continue;
    if (line.startsWith('type ')) {
      const c = chainOf(ruleset, table, chain);
      const policy = /policy (\w+);/.exec(line);
      if (policy !== null) c.policy = policy[1]!.toUpperCase();
      const hook = baseChainHook(line);
      if (hook !== null) c.hook = hook;
      continue;
    }
    lines.push({ table, chain, line });
  }
  for (const { table, chain, line } of lines) {
    const rules = chainOf(ruleset, table, chain).rules;
    for (const rule of expandVerdictMap(table, chain, line, maps.get(table)!)) rules.push(rule);
  }
  return ruleset;
}

function isFamily(word: string | undefined): word is TableFamily {
  return word === 'ip' || word === 'ip6' || word === 'inet';
}

function count(line: string, ch: string): number {
  let n = 0;
  for (const c of line) if (c === ch) n++;
  return n;
}

/** `type filter hook forward priority filter - 1; policy accept;` → hook, type, priority; null for other lines. */
function baseChainHook(line: string): ChainHook | null {
  const m = /^type (\w+) hook (\w+)(?: device \S+)? priority ([^;]+);/.exec(line);
  if (m === null) return null;
  const [, type, hook, expr] = m;
  if (type !== 'filter' && type !== 'nat' && type !== 'route') return null;
  if (hook !== 'prerouting' && hook !== 'input' && hook !== 'forward' && hook !== 'output' && hook !== 'postrouting') return null;
  const p = /^(-?\d+|[a-z]+)(?:\s*([+-])\s*(\d+))?$/.exec(expr!.trim());
  if (p === null) return null;
  const base = /^-?\d+$/.test(p[1]!) ? Number(p[1]) : HOOK_PRIORITY[p[1]!];
  if (base === undefined) return null;
  const offset = p[3] === undefined ? 0 : Number(p[3]) * (p[2] === '-' ? -1 : 1);
  return { hook, type, priority: base + offset };
}

interface VerdictMapElement {
  key: string;
  /** "jump filter-forward-in__docker0", "drop", "accept"... */
  verdict: string;
}

/** The elements of a `map NAME { type K : verdict; elements = { ... } }` block's text; null for a map of another kind. */
function verdictMapElements(text: string): VerdictMapElement[] | null {
  if (!/\btype [^;{}]*:\s*verdict\b/.test(text)) return null;
  const m = /elements = \{([^}]*)\}/.exec(text);
  return m === null ? [] : elementsOf(m[1]!);
}

/** `"docker0" : jump filter-forward-in__docker0, "bridge1" : drop` → elements (keys of one value only). */
function elementsOf(text: string): VerdictMapElement[] {
  const out: VerdictMapElement[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*"?([^\s":]+(?:\/\d+)?)"?\s*:\s*((?:jump|goto)\s+\S+|accept|drop|return|continue)\s*$/.exec(part);
    if (m !== null) out.push({ key: m[1]!, verdict: m[2]! });
  }
  return out;
}

/** Statements that select a verdict map's key, in the words nft prints them. */
const ONE_WORD_KEYS = new Set(['iifname', 'oifname', 'iif', 'oif']);

/**
 * A rule line, or for `KEY vmap @NAME` / `KEY vmap { ... }` one rule per element with the
 * key matched and the element's verdict (the rule's text names the element).
 */
function expandVerdictMap(table: string, chain: string, line: string, maps: Map<string, VerdictMapElement[]>): NetfilterRule[] {
  const at = line.indexOf(' vmap ');
  if (at < 0) return [parseNftRule(table, chain, line)];
  const before = line.slice(0, at).trim().split(/\s+/);
  const keyWords = ONE_WORD_KEYS.has(before[before.length - 1] ?? '') ? 1 : 2;
  if (before.length < keyWords) return [parseNftRule(table, chain, line)];
  const selector = before.slice(before.length - keyWords).join(' ');
  const prefix = before.slice(0, before.length - keyWords).join(' ');
  const after = line.slice(at + ' vmap '.length).trim();
  let elements: VerdictMapElement[] | undefined;
  let rest: string;
  if (after.startsWith('@')) {
    const name = /^@(\S+)/.exec(after)![1]!;
    elements = maps.get(name);
    rest = after.slice(name.length + 1);
  } else {
    const close = after.indexOf('}');
    elements = after.startsWith('{') && close > 0 ? elementsOf(after.slice(1, close)) : undefined;
    rest = close > 0 ? after.slice(close + 1) : '';
  }
  // A map synscope cannot read (a concatenated key, a missing definition): the rule may apply.
  if (elements === undefined || selector.includes('.')) return [parseNftRule(table, chain, line)];
  const text = withoutCounters(line);
  return elements.map((e) => {
    const rule = parseNftRule(table, chain, `${prefix} ${selector} "${e.key}" ${rest.trim()} ${e.verdict}`.trim());
    return { ...rule, text: `${text} ("${e.key}" : ${e.verdict})` };
  });
}

/** One nft rule statement of a chain. */
export function parseNftRule(table: string, chain: string, line: string): NetfilterRule {
  const tokens = tokenize(line);
  const rule: { -readonly [K in keyof NetfilterRule]: NetfilterRule[K] } = {
    table, chain, text: withoutCounters(line), origin: 'nft', unknown: [], target: null, goto: false,
  };
  const unknown: string[] = [];
  let i = 0;
  const next = () => tokens[i++];
  /** An optionally negated value; null (and the text kept as unknown) for a set or a missing value. */
  const value = (what: string): RuleMatch | null => {
    let negated = false;
    let v = next();
    if (v === '!=' || v === 'ne') {
      negated = true;
      v = next();
    } else if (v === '==' || v === 'eq') {
      v = next();
    }
    if (v === undefined || v === '{') {
      const rest: string[] = [];
      while (v === '{' && i < tokens.length && tokens[i] !== '}') rest.push(next()!);
      if (v === '{') next();
      unknown.push(`${what} ${negated ? '!= ' : ''}{ ${rest.join(' ')} }`);
      return null;
    }
    return { value: v, negated };
  };
  /** True while unmodelled words follow each other: they are one statement ("ct state related,established"). */
  let inUnknown = false;
  while (i < tokens.length) {
    const t = next()!;
    const sub = tokens[i];
    const wasUnknown = inUnknown;
    inUnknown = false;
    if (t === 'iifname' || t === 'iif' || t === 'oifname' || t === 'oif') {
      const m = value(t);
      if (m !== null) rule[t.startsWith('i') ? 'inInterface' : 'outInterface'] = m;
    } else if ((t === 'ip' && (sub === 'saddr' || sub === 'daddr' || sub === 'protocol')) || (t === 'ip6' && (sub === 'saddr' || sub === 'daddr' || sub === 'nexthdr'))) {
      i++;
      const m = value(`${t} ${sub}`);
      // In an inet table `ip saddr` also says: IPv4 packets only (nft adds that dependency).
      rule.ipVersion = t === 'ip' ? 4 : 6;
      if (m !== null) rule[sub === 'saddr' ? 'source' : sub === 'daddr' ? 'destination' : 'protocol'] = m;
    } else if (t === 'meta' && sub === 'nfproto' && (tokens[i + 1] === 'ipv4' || tokens[i + 1] === 'ipv6')) {
      rule.ipVersion = tokens[i + 1] === 'ipv4' ? 4 : 6;
      i += 2;
    } else if (t === 'meta' && sub === 'l4proto') {
      i++;
      const m = value('meta l4proto');
      if (m !== null) rule.protocol = m;
    } else if ((t === 'tcp' || t === 'udp' || t === 'th') && (sub === 'dport' || sub === 'sport')) {
      i++;
      if (t !== 'th' && rule.protocol === undefined) rule.protocol = { value: t, negated: false };
      const m = value(`${t} ${sub}`);
      const range = m === null ? null : parsePortRange(m.value);
      if (m !== null && range === null) unknown.push(`${t} ${sub} ${m.negated ? '!= ' : ''}${m.value}`);
      if (m !== null && range !== null) rule[sub === 'dport' ? 'destinationPort' : 'sourcePort'] = { value: range, negated: m.negated };
    } else if (t === 'ct' && sub === 'state') {
      i++;
      const negated = tokens[i] === '!=';
      if (negated || tokens[i] === '==') i++;
      const states: string[] = [];
      if (tokens[i] === '{') {
        for (i++; i < tokens.length && tokens[i] !== '}'; i++) states.push(...tokens[i]!.split(','));
        i++;
      } else if (tokens[i] !== undefined) {
        states.push(...tokens[i++]!.split(','));
      }
      rule.ctState = { value: states.filter((x) => x !== '').map((x) => x.toUpperCase()), negated };
    } else if (t === 'fib' && (sub === 'daddr' || sub === 'saddr') && tokens[i + 1] === 'type') {
      i += 2;
      const m = value(`fib ${sub} type`);
      if (m !== null) rule[sub === 'daddr' ? 'destinationType' : 'sourceType'] = { value: m.value.toUpperCase(), negated: m.negated };
    } else if (t === 'counter') {
      if (sub === 'packets') i += 4;
    } else if (t === 'comment') {
      i++;
    } else if (t === 'accept' || t === 'drop' || t === 'return' || t === 'reject') {
      rule.target = t.toUpperCase();
      if (t === 'reject') i = tokens.length;
    } else if ((t === 'jump' || t === 'goto') && sub !== undefined) {
      i++;
      rule.target = sub;
      rule.goto = t === 'goto';
    } else if (t === 'dnat' || t === 'snat') {
      while (tokens[i] === 'ip' || tokens[i] === 'to') i++;
      const to = next();
      rule.target = t.toUpperCase();
      if (to !== undefined) rule[t === 'dnat' ? 'toDestination' : 'toSource'] = to;
    } else if (t === 'masquerade') {
      rule.target = 'MASQUERADE';
      i = tokens.length;
    } else {
      if (wasUnknown) unknown[unknown.length - 1] += ` ${t}`;
      else unknown.push(t);
      inUnknown = true;
    }
  }
  rule.unknown = unknown;
  return rule;
}

/** "counter packets 12 bytes 720" → "counter": a snapshot's counters date from when it was taken. */
function withoutCounters(line: string): string {
  return line.replace(/\bcounter packets \d+ bytes \d+/g, 'counter');
}

/** Splits on blanks, keeping a double-quoted string as one token (quotes removed) and braces apart. */
function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([{}])|([^\s{},]+(?:,[^\s{},]+)*)|,/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    const t = m[1] ?? m[2] ?? m[3];
    if (t !== undefined) out.push(t);
  }
  return out;
}
