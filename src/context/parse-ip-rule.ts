import { canonicalPrefix } from './canonical';
import type { PolicyRule } from './host-context';
import { num, parseJsonArray, str, type JsonObject } from './json-fields';

/**
 * Policy rules from `ip -j -4 rule show` or `ip -j -6 rule show`, in the kernel's
 * (priority) order. `ip` prints a lookup as just `table`, other actions as `action`,
 * and `goto` and `nop` as keys of their own; `not` is a key with a null value.
 */
export function parseIpRule(text: string, family: 4 | 6): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const r of parseJsonArray(text, `ip -j -${family} rule show`)) {
    const priority = num(r, 'priority');
    if (priority === null) continue;
    const from = selector(r, 'src', 'srclen', family);
    const to = selector(r, 'dst', 'dstlen', family);
    if (from === undefined || to === undefined) continue;
    const action = actionOf(r);
    const fwmark = str(r, 'fwmark');
    const fwmask = str(r, 'fwmask');
    const rule: PolicyRule = {
      priority,
      family,
      from,
      to,
      iif: str(r, 'iif'),
      oif: str(r, 'oif'),
      fwmark: fwmark === null ? null : fwmask === null ? fwmark : `${fwmark}/${fwmask}`,
      action,
      table: action === 'lookup' ? str(r, 'table') : null,
      invert: 'not' in r,
    };
    const target = num(r, 'goto');
    if (action === 'goto' && target !== null) rule.target = target;
    out.push(rule);
  }
  return out;
}

function actionOf(r: JsonObject): string {
  const action = str(r, 'action');
  if (action !== null) return action;
  if ('goto' in r) return 'goto';
  if ('nop' in r) return 'nop';
  return 'lookup';
}

/**
 * "all" (or nothing) means any address: null. A bare address without a length is a
 * host. Undefined when the text cannot be read, so the rule is dropped rather than
 * widened to "all".
 */
function selector(r: JsonObject, key: string, lenKey: string, family: 4 | 6): string | null | undefined {
  const addr = str(r, key);
  if (addr === null || addr === 'all') return null;
  const len = num(r, lenKey);
  return canonicalPrefix(len === null ? addr : `${addr}/${len}`, family) ?? undefined;
}
