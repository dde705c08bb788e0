import { interfaceName } from '../live/live-capture';
import { targetKey, type DiscoveredTarget } from './default-targets';

/** How the interfaces watch captures on changed from one discovery to the next. */
export interface TargetChange {
  /** Every target from now on. */
  targets: DiscoveredTarget[];
  added: DiscoveredTarget[];
  removed: DiscoveredTarget[];
}

/** What `after` adds to and takes from `before`, by interface and namespace; null when nothing changed. */
export function targetChange(before: readonly DiscoveredTarget[], after: readonly DiscoveredTarget[]): TargetChange | null {
  const had = new Set(before.map(targetKey));
  const has = new Set(after.map(targetKey));
  const added = after.filter((t) => !had.has(targetKey(t)));
  const removed = before.filter((t) => !has.has(targetKey(t)));
  return added.length === 0 && removed.length === 0 ? null : { targets: [...after], added, removed };
}

/** A target as events and stderr name it: the device, with @namespace when it is in another one than watch. */
export function targetName(t: DiscoveredTarget): string {
  return interfaceName(t, null);
}

/** The body of a `targets` event (synscope.events/1): each interface with why it is watched, and what changed. */
export function targetsEventBody(node: string, change: TargetChange, windowIndex: number): object {
  const describe = (t: DiscoveredTarget) => ({ interface: targetName(t), role: t.role });
  return {
    node,
    window: windowIndex,
    interfaces: change.targets.map(describe),
    added: change.added.map(describe),
    removed: change.removed.map(describe),
  };
}

/** One line for stderr: "watching eth0 [uplink], docker0 [docker-bridge]; added docker0". */
export function targetChangeText(change: TargetChange): string {
  const list = (ts: readonly DiscoveredTarget[]) => ts.map(targetName).join(', ');
  const parts = [`watching ${change.targets.map((t) => `${targetName(t)} [${t.role}]`).join(', ')}`];
  if (change.added.length > 0) parts.push(`added ${list(change.added)}`);
  if (change.removed.length > 0) parts.push(`dropped ${list(change.removed)}`);
  return parts.join('; ');
}
