import type { Finding, FindingCode, Severity } from '../diagnose/finding';
import { MAX_FINDING_CLIENTS } from '../diagnose/finding-counts';
import { rfc3339 } from '../time/rfc3339';
import { findingSubject, type FindingSubject } from './finding-subject';
import type { WatchWindow } from './watch-window';

/** What one window of a watch concluded, as the lifecycle needs it. */
export interface WindowVerdicts {
  window: WatchWindow;
  findings: readonly Finding[];
  /** Handshakes completed in the window, per service ("10.0.0.5:443"). */
  completedByService: ReadonlyMap<string, number>;
  /** Handshakes completed in the window, all services together. */
  completed: number;
}

export type LifecycleEventType = 'finding-opened' | 'finding-ongoing' | 'finding-resolved';

/** One `synscope.events/1` event about a finding's life; `body` is what follows `schema` and `type`. */
export interface LifecycleEvent {
  type: LifecycleEventType;
  body: {
    node: string;
    code: FindingCode;
    severity: Severity;
    title: string;
    subject: string;
    subjectKind: FindingSubject['kind'];
    clients: string[];
    clientCount: number;
    /** Failed attempts of this window (0 in finding-resolved). */
    flowCount: number;
    firstSeen: string | null;
    lastSeen: string | null;
    window: { index: number; start: string | null; end: string | null };
    /** finding-resolved: the healthy windows in a row that resolved it. */
    healthyWindows?: number;
  };
}

/** A finding that is open: failing now, or failed and not yet healthy for long enough. */
export interface OpenFinding {
  code: FindingCode;
  severity: Severity;
  title: string;
  subject: FindingSubject;
  clients: string[];
  clientCount: number;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Windows in a row, since it last failed, in which its subject completed attempts. */
  healthyStreak: number;
}

/** Open findings a watch keeps at most; new ones past it are counted in `untracked`, not followed. */
export const MAX_OPEN_FINDINGS = 1024;

/**
 * Findings across the windows of a watch. A finding is one (node, code, subject); in each
 * window it is:
 * - failing (the window's analysis reports it): `finding-opened` the first time,
 *   `finding-ongoing` in each later window it fails in (so at most once a window), and its
 *   healthy streak starts again;
 * - healthy (not reported, and its subject completed handshakes in the window: its
 *   service for a service, any service for a bridge, interface, subnet or the host): one
 *   more healthy window; after `resolveAfter` of them in a row, `finding-resolved`;
 * - quiet (not reported, nothing completed): no event and the streak stays as it is: a
 *   window without traffic says nothing about whether the failure is gone.
 */
export class FindingLifecycle {
  private readonly open = new Map<string, OpenFinding>();
  /** New findings turned away because MAX_OPEN_FINDINGS were open. */
  untracked = 0;

  constructor(
    private readonly node: string,
    private readonly resolveAfter: number,
  ) {
    if (!Number.isInteger(resolveAfter) || resolveAfter < 1) throw new RangeError(`resolveAfter must be a whole number of windows, 1 or more (got ${resolveAfter})`);
  }

  /** The events of one window, in the order: opened and ongoing (by impact), then resolved. */
  observe(verdicts: WindowVerdicts): LifecycleEvent[] {
    const events: LifecycleEvent[] = [];
    const failing = mergeBySubject(verdicts.findings);
    for (const [key, { finding, subject, flowCount }] of failing) {
      const known = this.open.get(key);
      if (known === undefined && this.open.size >= MAX_OPEN_FINDINGS) {
        this.untracked++;
        continue;
      }
      const state: OpenFinding = {
        code: finding.code,
        severity: finding.severity,
        title: finding.title,
        subject,
        clients: finding.clients ?? [],
        clientCount: finding.clientCount ?? finding.clients?.length ?? 0,
        firstSeen: known?.firstSeen ?? evidenceTime(finding, 'firstSeen') ?? rfc3339(verdicts.window.start, 3),
        lastSeen: evidenceTime(finding, 'lastSeen') ?? rfc3339(verdicts.window.end, 3),
        healthyStreak: 0,
      };
      this.open.set(key, state);
      events.push(this.event(known === undefined ? 'finding-opened' : 'finding-ongoing', state, flowCount, verdicts.window));
    }
    for (const [key, state] of this.open) {
      if (failing.has(key) || !completedAttempts(state.subject, verdicts)) continue;
      state.healthyStreak++;
      if (state.healthyStreak < this.resolveAfter) continue;
      this.open.delete(key);
      const resolved = this.event('finding-resolved', state, 0, verdicts.window);
      resolved.body.healthyWindows = state.healthyStreak;
      events.push(resolved);
    }
    return events;
  }

  /** The findings open now, for the metrics. */
  openFindings(): IterableIterator<OpenFinding> {
    return this.open.values();
  }

  private event(type: LifecycleEventType, s: OpenFinding, flowCount: number, w: WatchWindow): LifecycleEvent {
    return {
      type,
      body: {
        node: this.node,
        code: s.code,
        severity: s.severity,
        title: s.title,
        subject: s.subject.name,
        subjectKind: s.subject.kind,
        clients: s.clients,
        clientCount: s.clientCount,
        flowCount,
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
        window: { index: w.index, start: rfc3339(w.start, 3), end: rfc3339(w.end, 3) },
      },
    };
  }
}

/**
 * A window's findings by (code, subject). Two findings of one code about one subject in a
 * window (two client groups of one service) are one failure: the first (the findings come
 * by impact) speaks for it, the attempts are added, the clients joined up to the bound.
 */
function mergeBySubject(findings: readonly Finding[]): Map<string, { finding: Finding; subject: FindingSubject; flowCount: number }> {
  const out = new Map<string, { finding: Finding; subject: FindingSubject; flowCount: number }>();
  for (const f of findings) {
    const subject = findingSubject(f);
    const key = `${f.code}\u0000${subject.kind}\u0000${subject.name}`;
    const flows = f.flowCount ?? f.flows.length;
    const seen = out.get(key);
    if (seen === undefined) {
      out.set(key, { finding: f, subject, flowCount: flows });
      continue;
    }
    const clients = [...new Set([...(seen.finding.clients ?? []), ...(f.clients ?? [])])];
    seen.finding = { ...seen.finding, clients: clients.slice(0, MAX_FINDING_CLIENTS), clientCount: Math.max(seen.finding.clientCount ?? 0, f.clientCount ?? 0, clients.length) };
    seen.flowCount += flows;
  }
  return out;
}

/** Did the subject complete handshakes in this window (its own service's, or any for a wider subject)? */
function completedAttempts(subject: FindingSubject, verdicts: WindowVerdicts): boolean {
  if (subject.kind === 'service') return (verdicts.completedByService.get(subject.name) ?? 0) > 0;
  return verdicts.completed > 0;
}

function evidenceTime(f: Finding, field: 'firstSeen' | 'lastSeen'): string | null {
  const v = f.evidence[field];
  return typeof v === 'string' ? v : null;
}
