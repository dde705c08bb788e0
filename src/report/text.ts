import { noFindingsReason } from './no-findings';
import type { FailedGroup } from '../flow/failed-flow-groups';
import type { Analysis, HostSummary } from '../analysis';
import { clientSubnetOf } from '../decode/address';
import { groupBy, plural, serviceOf } from '../diagnose/group';
import { DROP_REASON_MEANINGS } from '../evidence/drop-reasons';
import { DIAGNOSTIC_COUNTERS } from '../evidence/kernel-counters';
import type { KernelEvidence } from '../evidence/kernel-evidence';
import { capturedTuples, eventScope } from '../evidence/kernel-scope';
import type { Flow } from '../flow/flow';
import { paintFor, plain, visibleLength, type Paint } from './colour';
import { LIST_ITEMS, keyInWords, valueInWords } from './evidence-words';
import { findingCauses, type FindingCause } from './finding-causes';
import { changedOthers, flowJson } from './json';
import { renderAttemptLadders } from './ladder';
import { reportWidth, textTable, type Column } from './text-table';

const FLOW_ROWS = 10;
const GROUP_ROWS = 10;
const DROP_REASON_ROWS = 10;

/** Several hosts: whose files are whose, and how far each capture clock is from the first host's. */
function hostLines(hosts: readonly HostSummary[]): string[] {
  const first = hosts[0]?.name ?? '';
  return hosts.map((h, i) => {
    if (h.noAnswer !== undefined) return `  host ${h.name}: did not answer: ${h.noAnswer}`;
    const context = h.context === null ? 'no host context' : `context of ${h.context.namespace}`;
    let clock = '';
    if (i > 0) {
      clock =
        h.clockOffsetSeconds === null
          ? `; clock vs ${first}: unknown (no handshake seen at both)`
          : `; clock ${Math.abs(h.clockOffsetSeconds).toFixed(3)} s ${h.clockOffsetSeconds >= 0 ? 'ahead of' : 'behind'} ${first} (${h.clockMatches} handshake${h.clockMatches === 1 ? '' : 's'} seen at both)`;
    }
    return `  host ${h.name}: ${h.sources.join(', ')}; ${context}${clock}`;
  });
}

/** How the text report is laid out: the width its tables and prose fit, and its colours. */
export interface TextOptions {
  width: number;
  paint: Paint;
}

/** Options for a report written to `stream`: its terminal width and colour, plain and 100 columns when piped. */
export function textOptionsFor(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env): TextOptions {
  return { width: reportWidth(stream, env), paint: paintFor(stream, env) };
}

const FLOW_COLUMNS: Column[] = [
  { head: 'id' },
  { head: 'client' },
  { head: 'server' },
  { head: 'outcome' },
  { head: 'state' },
  { head: 'SYNs', right: true },
  { head: 'SYN-ACKs', right: true },
  { head: 'first seen (UTC)', optional: true },
  { head: 'seen on', optional: true },
];

const COUNT_COLUMNS: Column[] = ['failed', 'unanswered', 'rejected', 'syn-ack lost'].map((head) => ({ head, right: true }));

/**
 * The human report: summary, failed attempts grouped, findings (one block per cause) with evidence
 * and remedy, failed flows.
 */
export function renderText(a: Analysis, o: TextOptions = { width: 100, paint: plain }): string {
  const out: string[] = [];
  const s = a.summary;
  out.push(...wrap(`synscope: ${n(s.packets)} packets (${n(s.tcpPackets)} TCP), ${n(s.flows)} TCP flows, from ${a.inputs.length === 1 ? a.inputs[0]!.source : `${a.inputs.length} files`}`, o.width, '', '  '));
  for (const i of a.inputs) {
    const dropped = i.droppedByCapture === null ? '' : `, ${n(i.droppedByCapture)} dropped by capture`;
    out.push(...wrap(`${i.source}: ${i.format}, ${i.linkTypes.join('/') || 'no interfaces'}, interfaces ${i.interfaces.join(', ') || '-'}, ${n(i.packets)} packets${dropped}`, o.width, '  ', '    '));
  }
  if (a.hosts !== undefined) out.push(...hostLines(a.hosts));
  out.push('');
  out.push('Handshakes');
  const h = s.handshakes;
  out.push(textTable(['attempted', 'completed', 'unanswered', 'rejected', 'syn-ack lost'].map((head) => ({ head, right: true })), [[h.attempted, h.completed, h.unanswered, h.rejected, h.synAckLost].map(n)], o.width));

  if (a.clientClocks !== undefined && a.clientClocks.length > 0) {
    out.push('');
    out.push('Hosts behind one address (distinct TCP timestamp clocks in their SYNs)');
    out.push(textTable([{ head: 'client address' }, { head: 'hosts (clocks)', right: true }, { head: 'SYNs with a timestamp', right: true }, { head: 'clock rate', right: true }, { head: 'servers', right: true }], a.clientClocks.slice(0, GROUP_ROWS).map((c) => [c.address, n(c.clocks), n(c.syns), `${c.rateHz} Hz`, n(c.servers)]), o.width));
  }

  const failed = a.flows.filter((f) => f.outcome !== null && f.outcome !== 'completed');
  // An attempt stitched across NAT hops counts once, as its outermost (client-side) flow.
  const innerHops = new Set(a.attempts.flatMap((t) => t.flows.slice(1)));
  const failedAttempts = failed.filter((f) => !innerHops.has(f.id));
  if (a.flowsLeftOut > 0) {
    // Too many to list: the groups' exact counts (NAT hops of one attempt are separate lines here).
    out.push('');
    out.push('Failed attempts by client subnet');
    out.push(countTable('client subnet', a.failedGroups, (g) => g.clientSubnet, o.width));
    out.push('');
    out.push('Failed attempts by service');
    out.push(countTable('service', a.failedGroups, (g) => g.service, o.width));
  } else if (failedAttempts.length > 0) {
    out.push('');
    out.push('Failed attempts by client subnet');
    out.push(groupTable('client subnet', groupBy(failedAttempts, clientSubnet), o.width));
    out.push('');
    out.push('Failed attempts by service');
    out.push(groupTable('service', groupBy(failedAttempts, serviceOf), o.width));
  }

  out.push('');
  if (a.findings.length === 0) {
    const reason = noFindingsReason(h);
    out.push(h.attempted === 0 ? `Findings: none (${reason}).` : `Findings: none. ${reason[0]!.toUpperCase()}${reason.slice(1)}.`);
  } else {
    const causes = findingCauses(a.findings);
    out.push(causes.length === a.findings.length ? `Findings (${a.findings.length})` : `Findings (${a.findings.length}, from ${plural(causes.length, 'cause')})`);
    for (const c of causes) out.push(...renderCause(c, o));
  }
  if (a.kernel != null) out.push('', ...renderKernel(a.kernel, a.flows));
  const ladders = renderAttemptLadders(a.attempts, a.flows);
  if (ladders.length > 0) out.push('', ...ladders);

  if (failed.length > 0) {
    out.push('');
    const total = failed.length + a.flowsLeftOut;
    out.push(`Failed flows${total > FLOW_ROWS ? ` (first ${n(Math.min(FLOW_ROWS, failed.length))} of ${n(total)}; --json lists ${a.flowsLeftOut > 0 ? `${n(failed.length)}, up to 32 per group` : 'all'})` : ''}`);
    const rows = failed.slice(0, FLOW_ROWS).map((f) => {
      const j = flowJson(f, a.interfaceNames);
      return [j.id, j.client, j.server, j.outcome ?? '-', `${j.state} ${j.history}`, j.syns, j.synAcks, timeOfDay(j.firstSeen), j.interfaces.join(',')];
    });
    out.push(textTable(FLOW_COLUMNS, rows, o.width));
  }

  const problems = Object.entries(s.decodeProblems);
  if (problems.length > 0) {
    out.push('');
    out.push(`Packets not fully decoded: ${problems.map(([k, v]) => `${k} ${n(v)}`).join(', ')}`);
  }
  for (const w of a.warnings) out.push(...wrap(`${o.paint.severity('warning', 'warning')}: ${w}`, o.width, '', '  '));
  return out.join('\n') + '\n';
}

/** One cause: its findings' shared title, what they are about, and the first one's evidence and remedy. */
function renderCause(c: FindingCause, o: TextOptions): string[] {
  const first = c.findings[0]!;
  const head = `${c.severity.toUpperCase()} ${c.code}`;
  const lines = [''];
  if (c.findings.length === 1) {
    lines.push(...wrap(`${o.paint.severity(c.severity, head)} (confidence ${c.confidence}): ${o.paint.bold(first.title)}`, o.width, '', '  '));
  } else {
    const clients = `${c.clientCountAtLeast ? 'at least ' : ''}${n(c.clientCount)} client${c.clientCount === 1 ? '' : 's'}`;
    lines.push(...wrap(`${o.paint.severity(c.severity, `${head} x${c.findings.length}`)} (confidence ${c.confidence}): ${o.paint.bold(`${n(c.flowCount)} attempts from ${clients}, one cause in ${c.findings.length} places`)}`, o.width, '', '  '));
    lines.push(...wrap(`${subjectsLabel(c)}: ${listed(c.subjects)}`, o.width, '  ', '    '));
    lines.push(...wrap(`clients: ${listed(c.clients)}${c.clientCount > c.clients.length ? ` (${c.clientCountAtLeast ? 'at least ' : ''}${n(c.clientCount)} in all)` : ''}`, o.width, '  ', '    '));
    lines.push(...wrap(`like the first: ${first.title}`, o.width, '  '));
  }
  lines.push(...wrap(first.explanation, o.width, '  '));
  if (c.findings.length === 1 && first.flowCount !== undefined && (first.flowCount > first.flows.length || (first.clientCount ?? 0) > (first.clients?.length ?? 0))) {
    lines.push(`  covers ${n(first.flowCount)} attempts from ${n(first.clientCount ?? 0)} clients${first.countsEstimated === true ? ' (estimated from the listed ones)' : ''}; the lists below are cut`);
  }
  const evidence = Object.entries(first.evidence).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0));
  if (evidence.length > 0) {
    lines.push(...(c.findings.length === 1 ? ['  evidence:'] : wrap(`evidence (for ${c.subjects[0]}; --json has each):`, o.width, '  ', '    ')));
    for (const [k, v] of evidence) lines.push(...wrap(`${keyInWords(k)}: ${valueInWords(v)}`, o.width, '    ', '      '));
  }
  if (first.remedy.length > 0) {
    lines.push(...(c.findings.length === 1 ? ['  what to do:'] : wrap(`what to do (for ${c.subjects[0]}; for the others the same with their own addresses and ports):`, o.width, '  ', '    ')));
    // Not wrapped: a remedy holds commands, and a terminal's soft wrap keeps them one line when copied.
    for (const r of first.remedy) lines.push(`    - ${r}`);
  }
  return lines;
}

function subjectsLabel(c: FindingCause): string {
  return c.findings.every((f) => typeof f.evidence['service'] === 'string') ? 'services' : 'findings';
}

function listed(items: readonly string[]): string {
  return items.slice(0, LIST_ITEMS).join(', ') + (items.length > LIST_ITEMS ? `, ... (${n(items.length)} in all)` : '');
}

/** The window's kernel evidence: diagnostic counter rises, drops by reason, what was not collected. */
function renderKernel(k: KernelEvidence, flows: readonly Flow[]): string[] {
  const captured = capturedTuples(flows);
  const lines = ['Kernel evidence (during the capture)'];
  for (const c of k.counters) {
    const changed = DIAGNOSTIC_COUNTERS.filter((name) => c.deltas[name] !== undefined).map((name) => `${name} ${signed(c.deltas[name]!)}`);
    lines.push(`  counters in ${c.namespace} over ${c.seconds.toFixed(1)} s: ${changed.length > 0 ? changed.join(', ') : 'no diagnostic counter changed'}`);
  }
  for (const o of changedOthers(k, flows)) {
    const changed = Object.entries(o.deltas).map(([name, delta]) => `${name} ${signed(delta)}`);
    lines.push(`  counters in ${o.namespace} (${listed(o.addresses)}) over ${o.seconds.toFixed(1)} s: ${changed.join(', ')}`);
  }
  const reasons = new Map<string, number>();
  let synAcks = 0;
  let elsewhere = 0;
  for (const e of k.events) {
    if (e.kind === 'drop') reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
    else if (eventScope(e, captured) === 'captured') synAcks++;
    else elsewhere++;
  }
  if (reasons.size > 0) {
    const rows = [...reasons].sort((x, y) => y[1] - x[1]);
    lines.push('  drops by reason, host-wide (skb:kfree_skb names no namespace: other containers count here too):');
    for (const [reason, count] of rows.slice(0, DROP_REASON_ROWS)) {
      const meaning = DROP_REASON_MEANINGS[reason];
      lines.push(`    ${reason} ${n(count)}${meaning === undefined ? '' : `: ${meaning}`}`);
    }
    if (rows.length > DROP_REASON_ROWS) lines.push(`    (${rows.length - DROP_REASON_ROWS} more reasons; --json lists them)`);
  }
  if (synAcks > 0) lines.push(`  SYN-ACK retransmissions of the captured connections (tcp:tcp_retransmit_synack): ${n(synAcks)}`);
  if (elsewhere > 0) lines.push(`  SYN-ACK retransmissions elsewhere on the host (connections not in this capture): ${n(elsewhere)}`);
  if (reasons.size === 0 && synAcks === 0 && elsewhere === 0 && k.unavailable.length === 0) lines.push('  no drops with a reason and no SYN-ACK retransmissions were traced');
  for (const u of k.unavailable) lines.push(`  not collected: ${u.source}: ${u.reason}`);
  return lines;
}

/** "13:13:08.508" of an RFC 3339 time: the day is in --json, and one capture rarely spans two. */
function timeOfDay(rfc3339: string | null): string {
  return rfc3339?.match(/T(\d\d:\d\d:\d\d(?:\.\d{1,3})?)/)?.[1] ?? '-';
}

function signed(v: number): string {
  return v > 0 ? `+${n(v)}` : n(v);
}

function groupTable(label: string, groups: Map<string, Flow[]>, width: number): string {
  const rows = [...groups.entries()]
    .sort((x, y) => y[1].length - x[1].length)
    .slice(0, GROUP_ROWS)
    .map(([key, flows]) => [key, flows.length, count(flows, 'unanswered'), count(flows, 'rejected'), count(flows, 'synAckLost')].map((c) => (typeof c === 'number' ? n(c) : c)));
  const more = groups.size > GROUP_ROWS ? `\n  (${groups.size - GROUP_ROWS} more)` : '';
  return textTable([{ head: label }, ...COUNT_COLUMNS], rows, width) + more;
}

/** The same table from the failed groups' exact counts (failed-flow-groups.ts). */
function countTable(label: string, groups: readonly FailedGroup[], key: (g: FailedGroup) => string, width: number): string {
  const rows = new Map<string, { failed: number; unanswered: number; rejected: number; synAckLost: number }>();
  for (const g of groups) {
    const k = key(g);
    const row = rows.get(k) ?? { failed: 0, unanswered: 0, rejected: 0, synAckLost: 0 };
    row.failed += g.flows;
    row[g.outcome] += g.flows;
    rows.set(k, row);
  }
  const sorted = [...rows].sort((x, y) => y[1].failed - x[1].failed);
  const more = sorted.length > GROUP_ROWS ? `\n  (${sorted.length - GROUP_ROWS} more)` : '';
  return textTable([{ head: label }, ...COUNT_COLUMNS], sorted.slice(0, GROUP_ROWS).map(([k, r]) => [k, n(r.failed), n(r.unanswered), n(r.rejected), n(r.synAckLost)]), width) + more;
}

function count(flows: Flow[], outcome: Flow['outcome']): number {
  let c = 0;
  for (const f of flows) if (f.outcome === outcome) c++;
  return c;
}

/** /24 for IPv4 clients, /64 for IPv6. */
export function clientSubnet(f: Flow): string {
  return clientSubnetOf(f.clientIp);
}

function n(v: number): string {
  return v.toLocaleString('en-US');
}

/** Words filled to `width` (counting the indent); a word longer than a line stays whole. */
function wrap(text: string, width: number, indent: string, continuation = indent): string[] {
  const lines: string[] = [];
  let line = '';
  let lead = indent;
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && lead.length + visibleLength(line) + word.length + 1 > width) {
      lines.push(lead + line);
      lead = continuation;
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) lines.push(lead + line);
  return lines;
}
