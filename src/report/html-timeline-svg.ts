import type { Analysis } from '../analysis';
import { clientSubnetOf } from '../decode/address';
import { serviceOf } from '../diagnose/group';
import { OTHER_SUBNETS, type FailedGroup } from '../flow/failed-flow-groups';
import type { Flow } from '../flow/flow';
import { rfc3339 } from '../time/rfc3339';
import { escapeHtml } from './html-escape';
import { OUTCOME_WORDS } from './ladder';
import { INK, svgCircle, svgCross, svgGroup, svgLine, svgRoot, svgText, svgTriangle } from './svg-shapes';

/** How the timeline's rows are cut: by the service the client asked for, or by the client's subnet (IPv4 /24, IPv6 /64). */
export type TimelineGrouping = 'service' | 'clientSubnet';

const ROWS_SHOWN = 14;
/** Attempts drawn per row; past it the marks would only pile up on each other. */
const MARKS_PER_ROW = 200;
const WIDTH = 960;
const LABEL_WIDTH = 300;
const RIGHT_MARGIN = 24;
const AXIS_HEIGHT = 34;
const ROW_HEIGHT = 36;
const LABEL_CHARS = 38;

interface TimelineRow {
  key: string;
  /** Failed attempts in this row: exact (the failed groups'), whether or not each was drawn. */
  failed: number;
  /** Their SYNs, retransmissions included: exact. */
  syns: number;
  completed: number;
  drawn: Flow[];
  /** Attempts of the row not drawn (beyond MARKS_PER_ROW, or not in the report's sample). */
  undrawn: number;
  /** Every drawn attempt is an inner hop of a NAT-stitched attempt (the tuple after DNAT/SNAT). */
  natHopsOnly: boolean;
}

/** The chart, and how many rows it has no room for. */
export interface Timeline {
  svg: string;
  rowsLeftOut: number;
}

/**
 * SYNs, SYN-ACKs, retransmissions and failures over time, one row per service or client
 * subnet: for each attempt a dot at its first SYN, a band to its last packet when it sent
 * SYNs again (the report keeps each attempt's SYN count and first and last times, not
 * the time of every retransmission), a triangle at its first SYN-ACK and an X at the last
 * packet of an attempt that failed. Row labels count from the failed groups, so they stay
 * exact when the report holds only a sample of the attempts. An empty svg when no attempt
 * is held.
 */
export function timelineSvg(a: Analysis, grouping: TimelineGrouping): Timeline {
  const rows = timelineRows(a, grouping);
  const shown = rows.slice(0, ROWS_SHOWN);
  const rowsLeftOut = rows.length - shown.length;
  const drawn = shown.flatMap((r) => r.drawn);
  if (drawn.length === 0) return { svg: '', rowsLeftOut };

  const start = Math.min(...drawn.map(firstSynOf));
  const end = Math.max(...drawn.map((f) => f.lastSeen));
  const span = Math.max(end - start, 0.001);
  const plotLeft = LABEL_WIDTH;
  const plotWidth = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
  const x = (t: number) => plotLeft + ((t - start) / span) * plotWidth;
  const height = AXIS_HEIGHT + shown.length * ROW_HEIGHT + 8;

  const parts = [...axis(start, span, x, height)];
  shown.forEach((row, i) => {
    const top = AXIS_HEIGHT + i * ROW_HEIGHT;
    const y = top + ROW_HEIGHT / 2;
    if (i % 2 === 0) parts.push(`<rect x="0" y="${top}" width="${WIDTH}" height="${ROW_HEIGHT}" fill="#f3f5f8"/>`);
    parts.push(svgGroup(row.key, svgText(8, y - 3, cut(row.key + (row.natHopsOnly ? ' (NAT hop)' : '')), { fill: INK.text, weight: 'bold' })));
    parts.push(svgText(8, y + 12, rowCounts(row), { fill: INK.muted, size: 11 }));
    for (const f of row.drawn) parts.push(attemptMarks(f, x, y, a.interfaceNames));
  });
  const label = `Timeline of connection attempts by ${grouping === 'service' ? 'service' : 'client subnet'}`;
  return { svg: svgRoot(WIDTH, height, 'timeline', label, parts.join('')), rowsLeftOut };
}

/** What a reader must know to read the timelines right: what is sampled, what is not in the report. */
export function timelineNotes(a: Analysis): string[] {
  const notes: string[] = [];
  if (a.flowsLeftOut > 0) {
    const failed = a.failedGroups.reduce((sum, g) => sum + g.flows, 0);
    notes.push(`Sampled: the report holds ${n(failed - a.flowsLeftOut)} of ${n(failed)} failed attempts (the first ones of each group), and only those are drawn; the counts beside each row are exact.`);
  }
  if (!a.flows.some((f) => f.outcome === 'completed') && a.summary.handshakes.completed > 0) {
    const completed = a.summary.handshakes.completed;
    notes.push(`${completed === 1 ? 'The completed handshake is' : `The ${n(completed)} completed handshakes are`} not in this report, so no SYN or SYN-ACK of ${completed === 1 ? 'it' : 'theirs'} is drawn: --all-flows adds ${completed === 1 ? 'it' : 'them'}.`);
  }
  if (a.attempts.length > 0) notes.push('An attempt stitched across NAT hops is on one row per hop: each hop saw its own tuple (after DNAT or SNAT).');
  return notes;
}

function timelineRows(a: Analysis, grouping: TimelineGrouping): TimelineRow[] {
  const flowKey = grouping === 'service' ? serviceOf : (f: Flow) => clientSubnetOf(f.clientIp);
  const groupKey = grouping === 'service' ? (g: FailedGroup) => g.service : (g: FailedGroup) => g.clientSubnet;
  const innerHops = new Set(a.attempts.flatMap((t) => t.flows.slice(1)));
  const rows = new Map<string, TimelineRow>();
  const row = (key: string) => {
    let r = rows.get(key);
    if (r === undefined) rows.set(key, (r = { key, failed: 0, syns: 0, completed: 0, drawn: [], undrawn: 0, natHopsOnly: true }));
    return r;
  };
  for (const g of a.failedGroups) {
    const r = row(groupKey(g));
    r.failed += g.flows;
    r.syns += g.syns;
  }
  for (const f of a.flows) {
    if (f.outcome === null) continue;
    let key = flowKey(f);
    // An attempt of a group folded into "other" (failed-flow-groups.ts) is counted there.
    if (f.outcome !== 'completed' && !rows.has(key) && rows.has(OTHER_SUBNETS)) key = OTHER_SUBNETS;
    const r = row(key);
    if (f.outcome === 'completed') r.completed++;
    if (r.drawn.length < MARKS_PER_ROW) {
      r.drawn.push(f);
      if (!innerHops.has(f.id)) r.natHopsOnly = false;
    }
  }
  for (const r of rows.values()) {
    r.undrawn = r.failed + r.completed - r.drawn.length;
    if (r.drawn.length === 0) r.natHopsOnly = false;
  }
  // Ties: the tuple the client sent before the ones NAT made of it.
  return [...rows.values()].sort((p, q) => q.failed - p.failed || q.completed - p.completed || Number(p.natHopsOnly) - Number(q.natHopsOnly) || p.key.localeCompare(q.key));
}

function rowCounts(row: TimelineRow): string {
  const parts: string[] = [];
  if (row.failed > 0) parts.push(`${n(row.failed)} failed, ${n(row.syns)} SYN${row.syns === 1 ? '' : 's'}`);
  if (row.completed > 0) parts.push(`${n(row.completed)} completed`);
  if (row.undrawn > 0) parts.push(`${n(row.drawn.length)} drawn`);
  return parts.join('; ');
}

/** One attempt's marks on its row, with a tooltip saying what they stand for. */
function attemptMarks(f: Flow, x: (t: number) => number, y: number, interfaceNames: readonly string[]): string {
  const failed = f.outcome !== 'completed';
  const first = x(firstSynOf(f));
  const last = x(f.lastSeen);
  const marks: string[] = [];
  if (f.syns > 1) marks.push(`<rect x="${first.toFixed(1)}" y="${y - 4}" width="${Math.max(last - first, 1).toFixed(1)}" height="8" rx="4" fill="${INK.syn}" fill-opacity="0.28"/>`);
  else if (last - first >= 1) marks.push(svgLine(first, y, last, y, INK.lane, 1));
  marks.push(svgCircle(first, y, 4, INK.syn));
  if (f.firstSynAckAt !== null) marks.push(svgTriangle(x(f.firstSynAckAt), y - 9, 5, INK.synAck));
  if (failed) marks.push(svgCross(last, y, f.outcome === 'rejected' ? INK.refusal : INK.stop, 4.5));
  const seenOn = f.interfaces.map((i) => interfaceNames[i] ?? `interface ${i}`).join(', ');
  const tooltip = [
    `${f.id}: ${f.clientIp} port ${f.clientPort} to ${serviceOf(f)} (${OUTCOME_WORDS[f.outcome!]})`,
    `${f.syns} SYN${f.syns === 1 ? '' : 's'} (${f.syns - 1} retransmitted), ${f.synAcks} SYN-ACK${f.synAcks === 1 ? '' : 's'}`,
    `first SYN ${utc(firstSynOf(f))}, last packet ${utc(f.lastSeen)}`,
    `seen on ${seenOn}`,
  ].join('\n');
  return svgGroup(tooltip, marks.join(''));
}

/** The time axis across the top: ticks at a round step, in seconds after the first SYN drawn. */
function axis(start: number, span: number, x: (t: number) => number, height: number): string[] {
  const step = tickStep(span);
  const parts = [svgText(8, 16, `seconds after ${utc(start)}`, { fill: INK.muted, size: 11 })];
  for (let k = 0; k * step <= span * 1.0001; k++) {
    const at = x(start + k * step);
    parts.push(svgLine(at, AXIS_HEIGHT - 6, at, height - 4, '#d5dae2', 1));
    parts.push(svgText(at, AXIS_HEIGHT - 10, `+${trimNumber(k * step)}`, { anchor: 'middle', fill: INK.muted, size: 11 }));
  }
  return parts;
}

/** A round step (1, 2 or 5 times a power of ten) giving at most about eight ticks. */
function tickStep(span: number): number {
  const rough = span / 8;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
}

function firstSynOf(f: Flow): number {
  return f.firstSynAt ?? f.firstSeen;
}

/** A capture's clock can say year 30000: such a time has no date to print (rfc3339.ts). */
function utc(epochSeconds: number): string {
  return rfc3339(epochSeconds, 3)?.replace('T', ' ').replace('Z', ' UTC') ?? 'a time outside years 0001..9999';
}

function trimNumber(v: number): string {
  return String(Number(v.toPrecision(6)));
}

function cut(label: string): string {
  return label.length <= LABEL_CHARS ? label : `${label.slice(0, LABEL_CHARS - 1)}…`;
}

function n(v: number): string {
  return v.toLocaleString('en-US');
}

/** What the timeline's marks stand for, each beside the shape it is drawn with (an HTML list: it wraps on a narrow page). */
export function timelineLegend(): string {
  const items: [string, string][] = [
    [svgCircle(8, 8, 4, INK.syn), 'first SYN'],
    [`<rect x="0" y="4" width="28" height="8" rx="4" fill="${INK.syn}" fill-opacity="0.28"/>`, 'SYNs sent again, up to the last packet'],
    [svgTriangle(8, 8, 5, INK.synAck), 'first SYN-ACK'],
    [svgCross(8, 8, INK.stop, 4.5), 'failed (unanswered, SYN-ACK lost) at its last packet'],
    [svgCross(8, 8, INK.refusal, 4.5), 'refused (RST, ICMP error)'],
  ];
  const entries = items.map(([mark, words]) => `<li>${svgRoot(mark.startsWith('<rect') ? 28 : 16, 16, 'mark', words, mark)}${escapeHtml(words)}</li>`);
  return `<ul class="legend">${entries.join('')}</ul>`;
}
