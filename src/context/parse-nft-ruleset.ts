import { chainOf, parsePortRange, type NetfilterRule, type NetfilterRuleset, type RuleMatch } from './netfilter-rules';

/**
 * The IPv4 (`table ip NAME`) tables of `nft list ruleset` text as rules per table and
 * chain, for hosts whose iptables is iptables-nft: there the filter table Docker fills
 * (FORWARD, DOCKER-USER, DOCKER...) shows up here with the same table and chain names.
 * Statements read: `iifname`/`oifname`, `ip saddr`/`ip daddr`, `ip protocol`/`meta l4proto`,
 * `tcp|udp dport|sport`, `fib daddr|saddr type`, each with `!=`; verdicts accept, drop,
 * reject, return, jump, goto, dnat to, snat to, masquerade. Any other statement (ct state,
 * sets, marks) goes to `unknown`; counters are left out of the text. Base chains give
 * their policy. Other families (inet, ip6, bridge) and native nft rulesets whose chains
 * are not named like iptables' are not modelled.
 */
export function parseNftRuleset(text: string): NetfilterRuleset {
  const ruleset: NetfilterRuleset = new Map();
  let table: string | null = null;
  let chain: string | null = null;
  let depth = 0;
  /** Depth of a block being skipped (a set, a map, a table of another family), or -1. */
  let skipping = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
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
      if (table === null && head[0] === 'table' && head[1] === 'ip' && head[2] !== undefined) {
        table = head[2];
        if (!ruleset.has(table)) ruleset.set(table, new Map());
      } else if (table !== null && chain === null && head[0] === 'chain' && head[1] !== undefined) {
        chain = head[1];
        chainOf(ruleset, table, chain);
      } else {
        skipping = depth;
      }
      depth++;
      continue;
    }
    if (table === null || chain === null) continue;
    if (line.startsWith('type ')) {
      const policy = /policy (\w+);/.exec(line);
      if (policy !== null) chainOf(ruleset, table, chain).policy = policy[1]!.toUpperCase();
      continue;
    }
    chainOf(ruleset, table, chain).rules.push(parseNftRule(table, chain, line));
  }
  return ruleset;
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
    } else if (t === 'ip' && (sub === 'saddr' || sub === 'daddr' || sub === 'protocol')) {
      i++;
      const m = value(`ip ${sub}`);
      if (m !== null) rule[sub === 'saddr' ? 'source' : sub === 'daddr' ? 'destination' : 'protocol'] = m;
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
