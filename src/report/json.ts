import type { ClientClocks } from '../diagnose/client-clocks';
import type { Analysis, HostSummary, AnalysisSummary, InputSummary } from '../analysis';
import { formatEndpoint } from '../decode/address';
import type { Finding } from '../diagnose/finding';
import type { CounterDeltas, DropEvent, KernelEvidence, NamespaceCounters, SynAckRetransmitEvent } from '../evidence/kernel-evidence';
import { capturedTuples, eventScope, type EventScope } from '../evidence/kernel-scope';
import type { AttemptPath, Hop } from '../flow/attempt-path';
import type { FailedGroup } from '../flow/failed-flow-groups';
import { rfc3339 } from '../time/rfc3339';
import type { AttemptOutcome, ConnState, Flow, Rejection, SynOptions } from '../flow/flow';

export const REPORT_SCHEMA = 'synscope.report/2';
/** Kernel events the report lists in full; the rest are only counted. */
export const KERNEL_EVENTS_SHOWN = 100;

/** One flow as the JSON report shows it (DESIGN.md "Report JSON"). */
export interface FlowJson {
  id: string;
  /** "ip:port" ("[ip]:port" for IPv6), and the same split for scripts. */
  client: string;
  server: string;
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  state: ConnState;
  history: string;
  outcome: AttemptOutcome | null;
  syns: number;
  synAcks: number;
  /** RFC 3339 UTC, or null when the capture's clock is outside years 0001..9999. */
  firstSeen: string | null;
  lastSeen: string | null;
  interfaces: string[];
  isn: number | null;
  synOptions: SynOptions | null;
  synIpId: number | null;
  synTtl: number | null;
  rejection: Rejection | null;
  /** Only on a flow of an attempt seen at several hops (NAT stitching): the attempt's id (its outermost flow's id). */
  attempt?: string;
  /** With `attempt`: the attempt's hops, outermost first. */
  hops?: Hop[];
  /** With `attempt`: the interface of the last hop each direction reached (SYN inward, SYN-ACK outward; null: none). */
  reached?: AttemptPath['reached'];
}

/** The `synscope.report/2` document (report/1 listed every failed flow; report/2 lists a bounded sample, with exact groups). */
export interface ReportJson {
  schema: typeof REPORT_SCHEMA;
  inputs: InputSummary[];
  summary: AnalysisSummary;
  flows: FlowJson[];
  /** Failed attempts counted in `groups` but not listed in `flows`. */
  flowsLeftOut: number;
  /** Failed attempts by client subnet, service and outcome; exact counts. */
  groups: GroupJson[];
  findings: Finding[];
  /** Only when kernel evidence was collected (live mode, or a context written by it). */
  kernel?: KernelJson;
  /** Only for captures of several hosts (--host): each host, its sources and its clock offset. */
  hosts?: HostSummary[];
  /** Only when some client address shows several TCP timestamp clocks (hosts behind one address). */
  clientClocks?: ClientClocks[];
  warnings: string[];
}

/** Kernel evidence of the capture's window as the report shows it. */
export interface KernelJson {
  /** Per namespace: every counter that changed, after - before. */
  counters: CounterDeltas[];
  /** Other namespaces of the host (containers) where a diagnostic counter changed. */
  otherNamespaces?: NamespaceCounters[];
  events: {
    total: number;
    /**
     * Events of the captured connections (SYN-ACK retransmissions matched by addresses and
     * ports) against the rest: tracefs sees every namespace, and kfree_skb names none.
     */
    byScope: Record<EventScope, number>;
    byKind: Record<string, number>;
    /** kfree_skb drops by reason, most frequent first. */
    dropsByReason: Record<string, number>;
    /** The first KERNEL_EVENTS_SHOWN events in time order, `at` as RFC 3339 (null outside years 0001..9999). */
    first: KernelEventJson[];
  };
  unavailable: KernelEvidence['unavailable'];
}

/** One group of failed attempts (failed-flow-groups.ts). */
export interface GroupJson {
  clientSubnet: string;
  service: string;
  outcome: FailedGroup['outcome'];
  flows: number;
  syns: number;
  clients: number;
  /** Subnet groups folded into this "other" line when the table was full (0: a subnet's own). */
  foldedGroups: number;
  /** How many of its flows are listed in `flows`. */
  listed: number;
}

export function groupJson(g: FailedGroup): GroupJson {
  return { clientSubnet: g.clientSubnet, service: g.service, outcome: g.outcome, flows: g.flows, syns: g.syns, clients: g.clients, foldedGroups: g.foldedGroups, listed: g.sample.length };
}

export type KernelEventJson = (Omit<DropEvent, 'at'> | Omit<SynAckRetransmitEvent, 'at'>) & { at: string | null; scope: EventScope };

export function toReportJson(a: Analysis): ReportJson {
  const paths = pathsByFlow(a);
  return {
    schema: REPORT_SCHEMA,
    inputs: a.inputs,
    summary: a.summary,
    flows: a.flows.map((f) => flowJson(f, a.interfaceNames, paths.get(f.id))),
    flowsLeftOut: a.flowsLeftOut,
    groups: a.failedGroups.map(groupJson),
    findings: a.findings,
    ...(a.kernel != null && { kernel: kernelJson(a.kernel, a.flows) }),
    ...(a.hosts !== undefined && { hosts: a.hosts }),
    ...(a.clientClocks !== undefined && a.clientClocks.length > 0 && { clientClocks: a.clientClocks }),
    warnings: a.warnings,
  };
}

/**
 * The other namespaces that own an address of the report's flows and where a diagnostic
 * counter changed: on a busy host every container's Tcp.OutRsts moves (all are in the context file).
 */
export function changedOthers(k: KernelEvidence, flows: readonly Flow[]): NamespaceCounters[] {
  const addresses = new Set(flows.flatMap((f) => [f.clientIp, f.serverIp]));
  return (k.otherNamespaces ?? [])
    .filter((o) => Object.keys(o.deltas).length > 0 && o.addresses.some((a) => addresses.has(a)))
    .map(({ listeners: _listeners, ...counters }) => counters);
}

export function kernelJson(k: KernelEvidence, flows: readonly Flow[]): KernelJson {
  const captured = capturedTuples(flows);
  const scopes = k.events.map((e) => eventScope(e, captured));
  const others = changedOthers(k, flows);
  return {
    counters: k.counters,
    ...(others.length > 0 && { otherNamespaces: others }),
    events: {
      total: k.events.length,
      byScope: { captured: scopes.filter((s) => s === 'captured').length, 'host-wide': scopes.filter((s) => s === 'host-wide').length },
      byKind: countBy(k.events.map((e) => e.kind)),
      dropsByReason: countBy(k.events.flatMap((e) => (e.kind === 'drop' ? [e.reason] : []))),
      first: k.events.slice(0, KERNEL_EVENTS_SHOWN).map((e, i) => ({ ...e, at: rfc3339(e.at), scope: scopes[i]! })),
    },
    unavailable: k.unavailable,
  };
}

/** Occurrences of each value, most frequent first. */
function countBy(values: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((x, y) => y[1] - x[1]));
}

/** The stitched attempt each flow belongs to, by flow id. */
function pathsByFlow(a: Analysis): Map<string, AttemptPath> {
  const out = new Map<string, AttemptPath>();
  for (const p of a.attempts) for (const id of p.flows) out.set(id, p);
  return out;
}

/** One flow as the report shows it; `path` is the stitched attempt it belongs to, if any. */
export function flowJson(f: Flow, interfaceNames: readonly string[], path?: AttemptPath): FlowJson {
  const json: FlowJson = {
    id: f.id,
    client: formatEndpoint(f.clientIp, f.clientPort, f.ipVersion),
    server: formatEndpoint(f.serverIp, f.serverPort, f.ipVersion),
    clientIp: f.clientIp,
    clientPort: f.clientPort,
    serverIp: f.serverIp,
    serverPort: f.serverPort,
    state: f.state,
    history: f.history,
    outcome: f.outcome,
    syns: f.syns,
    synAcks: f.synAcks,
    firstSeen: rfc3339(f.firstSeen),
    lastSeen: rfc3339(f.lastSeen),
    interfaces: f.interfaces.map((i) => interfaceNames[i] ?? `#${i}`),
    isn: f.isn,
    synOptions: f.synOptions,
    synIpId: f.synIpId,
    synTtl: f.synTtl,
    rejection: f.rejection,
  };
  if (path !== undefined) {
    json.attempt = path.id;
    json.hops = path.hops;
    json.reached = path.reached;
  }
  return json;
}

/**
 * Write the report as pretty JSON in pieces, one flow at a time, so a capture with
 * tens of thousands of failed flows never needs the whole document as one string.
 * The text is identical to JSON.stringify(toReportJson(a), null, 2).
 */
export function writeReportJson(a: Analysis, write: (chunk: string) => void): void {
  const paths = pathsByFlow(a);
  const indent = (json: string) => json.replace(/\n/g, '\n  ');
  write(`{\n  "schema": ${JSON.stringify(REPORT_SCHEMA)},\n`);
  write(`  "inputs": ${indent(JSON.stringify(a.inputs, null, 2))},\n`);
  write(`  "summary": ${indent(JSON.stringify(a.summary, null, 2))},\n`);
  if (a.flows.length === 0) {
    write('  "flows": [],\n');
  } else {
    write('  "flows": [\n');
    let batch = '';
    for (let i = 0; i < a.flows.length; i++) {
      batch += `    ${JSON.stringify(flowJson(a.flows[i]!, a.interfaceNames, paths.get(a.flows[i]!.id)), null, 2).replace(/\n/g, '\n    ')}${i + 1 < a.flows.length ? ',' : ''}\n`;
      if (batch.length > 1 << 16) {
        write(batch);
        batch = '';
      }
    }
    write(`${batch}  ],\n`);
  }
  write(`  "flowsLeftOut": ${a.flowsLeftOut},\n`);
  write(`  "groups": ${indent(JSON.stringify(a.failedGroups.map(groupJson), null, 2))},\n`);
  write(`  "findings": ${indent(JSON.stringify(a.findings, null, 2))},\n`);
  if (a.kernel != null) write(`  "kernel": ${indent(JSON.stringify(kernelJson(a.kernel, a.flows), null, 2))},\n`);
  if (a.hosts !== undefined) write(`  "hosts": ${indent(JSON.stringify(a.hosts, null, 2))},\n`);
  if (a.clientClocks !== undefined && a.clientClocks.length > 0) write(`  "clientClocks": ${indent(JSON.stringify(a.clientClocks, null, 2))},\n`);
  write(`  "warnings": ${indent(JSON.stringify(a.warnings, null, 2))}\n}\n`);
}
