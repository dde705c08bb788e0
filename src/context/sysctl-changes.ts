import type { HostContext, SysctlChange } from './host-context';

/** How many changed sysctls the warning names (turning ip_forward off changes every conf.*.forwarding). */
const NAMED_CHANGES = 4;

/**
 * A live snapshot is collected as the window starts; a sysctl set during the window (forwarding
 * turned off by a hardening script, rp_filter by a network restart) would be judged at its old
 * value. `atEnd` is read as the window ends: the verdicts and remedies are about the host as it
 * is now, and each change is kept in the snapshot (`sysctlChanges`) so the failures before it
 * are not misread. A snapshot that was not collected (no sysctls) stays the stub it is.
 */
export function withSysctlsAtEnd(context: HostContext, atEnd: Readonly<Record<string, string>> | null): HostContext {
  if (atEnd === null || Object.keys(context.sysctls).length === 0) return context;
  const changes: SysctlChange[] = [];
  for (const [name, value] of Object.entries(atEnd)) {
    const before = context.sysctls[name];
    if (before !== undefined && before !== value) changes.push({ name, atStart: before, atEnd: value });
  }
  const sysctls = { ...context.sysctls, ...atEnd };
  return changes.length === 0 ? { ...context, sysctls } : { ...context, sysctls, sysctlChanges: [...(context.sysctlChanges ?? []), ...changes] };
}

/** The warning a snapshot with sysctl changes gives, or null. */
export function sysctlChangeWarning(context: HostContext | null): string | null {
  const changes = context?.sysctlChanges ?? [];
  if (changes.length === 0) return null;
  const named = changes.slice(0, NAMED_CHANGES).map((c) => `${c.name} ${c.atStart} -> ${c.atEnd}`);
  const more = changes.length > NAMED_CHANGES ? ` and ${changes.length - NAMED_CHANGES} more` : '';
  return `sysctls changed during the capture (${named.join(', ')}${more}): the diagnosis uses their values at its end`;
}
