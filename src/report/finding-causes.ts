import type { Confidence, Finding, FindingCode, Severity } from '../diagnose/finding';
import { groupBy } from '../diagnose/group';

/**
 * Findings that share one cause and one remedy: the same code, severity and confidence, and
 * the same title and remedy once the addresses, ports and counts in them are set aside. The
 * rules find per service (or per interface, per bridge); a port scan or a host whose every
 * published port is dropped gives dozens of such findings, and a person reads them as one.
 */
export interface FindingCause {
  code: FindingCode;
  severity: Severity;
  confidence: Confidence;
  /** The findings, in report order (the first is the heaviest). */
  findings: Finding[];
  /** What each finding is about: its service, else its title. */
  subjects: string[];
  /** Failed attempts the findings cover together. */
  flowCount: number;
  /** Clients named by the findings, without repeats, at most `MAX_CAUSE_CLIENTS`. */
  clients: string[];
  /** Distinct clients; a lower bound when `clientCountAtLeast` (the findings' own lists were cut). */
  clientCount: number;
  clientCountAtLeast: boolean;
}

export const MAX_CAUSE_CLIENTS = 32;

/** Groups findings by cause, keeping report order (a cause sits where its first finding was). */
export function findingCauses(findings: readonly Finding[]): FindingCause[] {
  return [...groupBy(findings, causeKey).values()].map(causeOf);
}

function causeOf(findings: Finding[]): FindingCause {
  const first = findings[0]!;
  const clients = new Set<string>();
  let cut = false;
  let flowCount = 0;
  for (const f of findings) {
    const named = f.clients ?? [];
    for (const c of named) clients.add(c);
    if ((f.clientCount ?? named.length) > named.length) cut = true;
    flowCount += f.flowCount ?? f.flows.length;
  }
  return {
    code: first.code,
    severity: first.severity,
    confidence: first.confidence,
    findings,
    subjects: findings.map(subjectOf),
    flowCount,
    clients: [...clients].slice(0, MAX_CAUSE_CLIENTS),
    clientCount: cut ? Math.max(clients.size, ...findings.map((f) => f.clientCount ?? 0)) : clients.size,
    clientCountAtLeast: cut,
  };
}

/** The finding's service, or its title when a rule finds per something else. */
export function subjectOf(f: Finding): string {
  const service = f.evidence['service'];
  return typeof service === 'string' ? service : f.title;
}

function causeKey(f: Finding): string {
  return [f.code, f.severity, f.confidence, shapeOf(f.title), ...f.remedy.map(shapeOf)].join('\n');
}

/** An IPv6 address (its port, if any, goes with it: "2001:db8::1:443" is how services print). */
const IPV6 = /\[?\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,8}\b\]?(?::\d+)?/gi;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2}|:\d+)?\b/g;
const NUMBER = /\d[\d,.]*/g;

/** Text with its addresses (with their ports or prefix lengths) and numbers replaced, so findings that differ only in them compare equal. */
export function shapeOf(text: string): string {
  return text.replace(IPV6, '<addr>').replace(IPV4, '<addr>').replace(NUMBER, '<n>');
}
