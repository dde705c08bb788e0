import { readCurrentSysctls } from '../context/collect';
import type { HostContext } from '../context/host-context';
import { inNetns } from '../netns/in-netns';
import type { ResolvedNamespace } from '../netns/namespace-spec';

/** A snapshot whose sysctls are the ones at the end of the window, and what changed during it. */
export interface SysctlsAtEnd {
  context: HostContext;
  warnings: string[];
}

/**
 * The context was collected as the window started; a sysctl set during the window (forwarding
 * turned off by a hardening script, rp_filter by a network restart) would be judged at its old
 * value. Read them again at the end: the verdicts and remedies are about the host as it is now,
 * and each change is named so the failures before it are not misread.
 */
export function withSysctlsAtEnd(context: HostContext, namespace: ResolvedNamespace | null): SysctlsAtEnd {
  // A snapshot that could not be collected stays the stub it is.
  if (Object.keys(context.sysctls).length === 0) return { context, warnings: [] };
  let atEnd: Record<string, string>;
  try {
    atEnd = inNetns(namespace, readCurrentSysctls);
  } catch {
    return { context, warnings: [] };
  }
  return mergeSysctls(context, atEnd);
}

/** How many changed sysctls one warning names (turning ip_forward off changes every conf.*.forwarding). */
const NAMED_CHANGES = 4;

/** `context`'s sysctls updated from `atEnd`, with one warning naming the values that changed. */
export function mergeSysctls(context: HostContext, atEnd: Record<string, string>): SysctlsAtEnd {
  const changes: string[] = [];
  for (const [name, value] of Object.entries(atEnd)) {
    const before = context.sysctls[name];
    if (before !== undefined && before !== value) changes.push(`${name} ${before} -> ${value}`);
  }
  const sysctls = { ...context.sysctls, ...atEnd };
  if (changes.length === 0) return { context: { ...context, sysctls }, warnings: [] };
  const more = changes.length > NAMED_CHANGES ? ` and ${changes.length - NAMED_CHANGES} more` : '';
  const warning = `sysctls changed during the capture (${changes.slice(0, NAMED_CHANGES).join(', ')}${more}): the diagnosis uses their values at its end`;
  return { context: { ...context, sysctls }, warnings: [warning] };
}
