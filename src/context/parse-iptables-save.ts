import { chainOf, HOOK_PRIORITY, parsePortRange, type ChainHook, type NetfilterRule, type NetfilterRuleset, type PortRange, type RuleMatch } from './netfilter-rules';

/**
 * `iptables-save` text (any tables it lists) as rules per table and chain. Minimal on
 * purpose: `-s`, `-d`, `-i`, `-o`, `-p`, `--sport`, `--dport`, `--src-type`/`--dst-type`
 * (addrtype), `--ctstate`/`--state`, each possibly inverted with `!`, then `-j`/`-g` and DNAT/SNAT's
 * `--to-destination`/`--to-source`. Any other match option is kept as text under
 * `unknown` (the rule may or may not apply); comments are dropped; options after the
 * target are the target's. A line it cannot read is skipped, never fatal. The built-in
 * chains of raw, mangle, nat, filter and security get the hook and priority their table
 * registers (raw PREROUTING runs before nat's DNAT, filter FORWARD after it).
 */
export function parseIptablesSave(text: string): NetfilterRuleset {
  const ruleset: NetfilterRuleset = new Map();
  let table: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/^\[\d+:\d+\]\s+/, ''); // `iptables-save -c` counters
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      table = line.slice(1);
      ruleset.set(table, ruleset.get(table) ?? new Map());
    } else if (line === 'COMMIT') {
      table = null;
    } else if (table !== null && line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (name === undefined) continue;
      chainOf(ruleset, table, name).policy = policy === undefined || policy === '-' ? null : policy;
    } else if (table !== null && line.startsWith('-A ')) {
      const rule = parseRule(table, line);
      if (rule !== null) chainOf(ruleset, table, rule.chain).rules.push(rule);
    }
  }
  for (const [table, chains] of ruleset) {
    for (const chain of chains.values()) {
      chain.family = 'ip';
      const hook = builtinHook(table, chain.name);
      if (hook !== undefined) chain.hook = hook;
    }
  }
  return ruleset;
}

/** The hook of a built-in chain of iptables' tables (net/ipv4/netfilter/iptable_*.c), or undefined. */
function builtinHook(table: string, chain: string): ChainHook | undefined {
  const hook = chain.toLowerCase();
  if (hook !== 'prerouting' && hook !== 'input' && hook !== 'forward' && hook !== 'output' && hook !== 'postrouting') return undefined;
  switch (table) {
    case 'raw':
      return hook === 'prerouting' || hook === 'output' ? { hook, type: 'filter', priority: HOOK_PRIORITY['raw']! } : undefined;
    case 'mangle':
      return { hook, type: 'filter', priority: HOOK_PRIORITY['mangle']! };
    case 'nat':
      if (hook === 'forward') return undefined;
      return { hook, type: 'nat', priority: hook === 'prerouting' || hook === 'output' ? HOOK_PRIORITY['dstnat']! : HOOK_PRIORITY['srcnat']! };
    case 'filter':
    case 'security':
      return hook === 'input' || hook === 'forward' || hook === 'output' ? { hook, type: 'filter', priority: HOOK_PRIORITY[table]! } : undefined;
    default:
      return undefined;
  }
}

/** Options that take one value and mean nothing for the path (kept out of `unknown`). */
const HARMLESS = new Set(['-m', '--match', '--comment']);

/** One `-A CHAIN ...` line; null when it has no chain name. */
export function parseRule(table: string, line: string): NetfilterRule | null {
  const tokens = tokenize(line);
  const chain = tokens[1];
  if (tokens[0] !== '-A' || chain === undefined) return null;
  const rule: { -readonly [K in keyof NetfilterRule]: NetfilterRule[K] } = {
    table, chain, text: line, origin: 'iptables-save', unknown: [], target: null, goto: false,
  };
  const unknown: string[] = [];
  let negated = false;
  for (let i = 2; i < tokens.length; i++) {
    const opt = tokens[i]!;
    if (opt === '!') {
      negated = true;
      continue;
    }
    const value = tokens[i + 1];
    const take = (): string => {
      i++;
      return value ?? '';
    };
    const match = (): RuleMatch => ({ value: take(), negated });
    const ports = (): RuleMatch<PortRange> | undefined => {
      const text = take();
      const r = iptablesPorts(text);
      if (r === null) unknown.push(`${negated ? '! ' : ''}${opt} ${text}`);
      return r === null ? undefined : { value: r, negated };
    };
    switch (opt) {
      case '-s': case '--source': rule.source = match(); break;
      case '-d': case '--destination': rule.destination = match(); break;
      case '-i': case '--in-interface': rule.inInterface = match(); break;
      case '-o': case '--out-interface': rule.outInterface = match(); break;
      case '-p': case '--protocol': rule.protocol = { value: take().toLowerCase(), negated }; break;
      case '--sport': case '--source-port': rule.sourcePort = ports(); break;
      case '--dport': case '--destination-port': rule.destinationPort = ports(); break;
      case '--src-type': rule.sourceType = { value: take().toUpperCase(), negated }; break;
      case '--dst-type': rule.destinationType = { value: take().toUpperCase(), negated }; break;
      case '--ctstate': case '--state': rule.ctState = { value: take().toUpperCase().split(','), negated }; break;
      case '-j': case '--jump': case '-g': case '--goto':
        rule.target = take();
        rule.goto = opt === '-g' || opt === '--goto';
        readTargetOptions(tokens, i + 1, rule);
        i = tokens.length;
        break;
      default:
        if (HARMLESS.has(opt)) {
          take();
        } else if (opt.startsWith('-')) {
          // An option this reader does not model, with its values (up to the next option).
          const parts = [negated ? `! ${opt}` : opt];
          while (i + 1 < tokens.length && !tokens[i + 1]!.startsWith('-') && tokens[i + 1] !== '!') parts.push(tokens[++i]!);
          unknown.push(parts.join(' '));
        }
    }
    negated = false;
  }
  rule.unknown = unknown;
  return rule;
}

function readTargetOptions(tokens: readonly string[], from: number, rule: { toDestination?: string; toSource?: string }): void {
  for (let i = from; i < tokens.length - 1; i++) {
    if (tokens[i] === '--to-destination') rule.toDestination = tokens[i + 1]!;
    else if (tokens[i] === '--to-source') rule.toSource = tokens[i + 1]!;
  }
}

/** iptables port syntax: "80", "1024:2048", "1024:" (to 65535), ":1023" (from 0). */
function iptablesPorts(text: string): PortRange | null {
  if (text.endsWith(':')) return parsePortRange(`${text}65535`);
  if (text.startsWith(':')) return parsePortRange(`0${text}`);
  return parsePortRange(text);
}

/** Splits on blanks, keeping a double-quoted string (a comment) as one token. */
function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}
