import type { AttemptPath, Hop } from '../flow/attempt-path';
import type { AttemptOutcome, Flow } from '../flow/flow';

/** The report's line width; the picture never goes past it. */
const WIDTH = 100;
/** Past this many hops the columns get too narrow to label: the compact list instead. */
const MAX_LADDER_HOPS = 4;
/** Interface names longer than this are cut, ending in an ellipsis. */
const NAME_WIDTH = 16;
/** Fewest columns between two lanes, so short labels still read as arrows. */
const MIN_LANE_GAP = 12;
const PATHS_SHOWN = 5;
const INDENT = '  ';

export const OUTCOME_WORDS: Record<AttemptOutcome, string> = {
  completed: 'completed',
  rejected: 'rejected',
  synAckLost: 'SYN-ACK lost',
  unanswered: 'unanswered',
};

/** What one hop saw of the attempt, as the picture labels it. */
export interface Sighting {
  name: string;
  /** "SYN x4". */
  syn: string;
  /** How the tuple changed since the previous hop ("DNAT to 172.18.0.2:8080"); empty when it did not. */
  translations: string[];
  /** What came back through this hop: "SYN-ACK" (or "RST", "ICMP error"), null for nothing. */
  replyKind: string | null;
  /** "SYN-ACK x3". */
  reply: string | null;
  /** Whether the reply this hop saw was missing at the next hop out (at the client: never acknowledged). */
  replyLost: boolean;
}

/**
 * The "Paths of failed attempts" section of the human report: a ladder for each of the
 * first few failed attempts seen at several hops.
 */
export function renderAttemptLadders(attempts: readonly AttemptPath[], flows: readonly Flow[]): string[] {
  const failed = attempts.filter((t) => t.outcome !== 'completed');
  if (failed.length === 0) return [];
  const flowsById = new Map(flows.map((f) => [f.id, f]));
  const lines = [`Paths of failed attempts${failed.length > PATHS_SHOWN ? ` (first ${PATHS_SHOWN} of ${failed.length})` : ''}`];
  for (const path of failed.slice(0, PATHS_SHOWN)) lines.push('', ...renderLadder(path, flowsById));
  if (failed.length > PATHS_SHOWN) lines.push('', `${INDENT}(${failed.length - PATHS_SHOWN} more; --json lists their hops)`);
  return lines;
}

/**
 * One attempt's path as a ladder: a lane for the client and one per hop (outermost first),
 * SYN arrows inward with their count and the translation where the tuple changed, reply
 * arrows outward from each hop that saw one, an X where the packets stopped, and a line
 * saying where. More than MAX_LADDER_HOPS hops, or lanes too wide for WIDTH, give a
 * compact list instead. `flowsById` supplies each hop's SYN count and rejection.
 */
export function renderLadder(path: AttemptPath, flowsById: ReadonlyMap<string, Flow>): string[] {
  const sightings = sightingsOf(path, flowsById);
  const picture = (path.hops.length <= MAX_LADDER_HOPS ? ladder(sightings) : null) ?? compactList(sightings);
  return [...heading(path), ...picture, `${INDENT}${stopNote(path, sightings, flowsById)}`];
}

/** What each hop saw, outermost first; `nameOf` labels a hop's interface (cut to NAME_WIDTH for the text picture). */
export function sightingsOf(path: AttemptPath, flowsById: ReadonlyMap<string, Flow>, nameOf: (name: string) => string = cut): Sighting[] {
  const sightings = path.hops.map((hop, i): Sighting => {
    const flow = flowsById.get(hop.flow);
    const replyKind = hop.synAcks > 0 ? 'SYN-ACK' : rejectionKind(flow);
    return {
      name: nameOf(hop.interface),
      syn: flow === undefined ? 'SYN' : `SYN x${flow.syns}`,
      translations: [...(i === 0 ? [] : translationsSince(path.hops[i - 1]!, hop)), ...(hop.via === undefined ? [] : [`over ${hop.via}`])],
      replyKind,
      reply: hop.synAcks > 0 ? `SYN-ACK x${hop.synAcks}` : replyKind,
      replyLost: false,
    };
  });
  sightings.forEach((s, i) => {
    s.replyLost = s.reply !== null && (i === 0 ? path.outcome === 'synAckLost' : sightings[i - 1]!.reply === null);
  });
  return sightings;
}

function rejectionKind(flow: Flow | undefined): string | null {
  const by = flow?.rejection?.by;
  return by === 'rst' ? 'RST' : by === 'icmp' ? 'ICMP error' : null;
}

/** The rewrite between two neighbouring hops, in iptables' words (--to-destination, --to-source). */
function translationsSince(outer: Hop, inner: Hop): string[] {
  const changes: string[] = [];
  if (inner.server !== outer.server) changes.push(`DNAT to ${inner.server}`);
  if (inner.client !== outer.client) changes.push(`SNAT to ${inner.client}`);
  return changes;
}

function heading(path: AttemptPath): string[] {
  const outer = path.hops[0]!;
  const line = `attempt ${path.id}: ${outer.client} -> ${outer.server} (${OUTCOME_WORDS[path.outcome]})`;
  return line.length <= WIDTH ? [line] : [`attempt ${path.id} (${OUTCOME_WORDS[path.outcome]}):`, `${INDENT}${outer.client} -> ${outer.server}`];
}

/** Where the packets stopped, in one sentence. */
export function stopNote(path: AttemptPath, sightings: readonly Sighting[], flowsById: ReadonlyMap<string, Flow>): string {
  const answered = sightings.findIndex((s) => s.reply !== null);
  if (answered < 0) return `SYN reached ${sightings[sightings.length - 1]!.name}; no SYN-ACK seen at any hop`;
  const seen = sightings[answered]!;
  if (answered > 0) return `${seen.replyKind} seen at ${seen.name} but not at ${sightings[answered - 1]!.name}: it died between them`;
  if (path.outcome === 'synAckLost') return `SYN-ACK left by ${seen.name} towards the client, but the client kept sending SYNs: lost beyond ${seen.name}`;
  if (path.outcome === 'rejected') {
    const from = flowsById.get(path.hops[0]!.flow)?.rejection?.from;
    return `${seen.replyKind}${from === undefined ? '' : ` from ${from}`} seen at ${seen.name}: the attempt was refused`;
  }
  return `${seen.replyKind} seen at ${seen.name}; the client's outcome: ${OUTCOME_WORDS[path.outcome]}`;
}

/**
 * Lanes side by side: names, then the SYN row (arrows into each hop's lane), then the reply
 * row (arrows out of each hop's lane towards the client). Null when it does not fit WIDTH.
 */
function ladder(sightings: readonly Sighting[]): string[] | null {
  const names = ['client', ...sightings.map((s) => s.name)];
  const lanes = [INDENT.length + half(names[0]!)];
  for (const [i, s] of sightings.entries()) {
    const labelsFit = Math.max(synLabel(s).length, s.reply?.length ?? 0) + 10;
    const namesFit = names[i]!.length - half(names[i]!) + half(names[i + 1]!) + 2;
    lanes.push(lanes[i]! + Math.max(labelsFit, namesFit, MIN_LANE_GAP));
  }
  const last = lanes[lanes.length - 1]!;
  const width = Math.max(last + 1, last - half(names[names.length - 1]!) + names[names.length - 1]!.length);
  if (width > WIDTH) return null;

  const header = blank(width);
  names.forEach((name, k) => header.splice(lanes[k]! - half(name), name.length, ...name));
  const synRow = blank(width);
  const replyRow = blank(width);
  const silent = sightings.every((s) => s.reply === null);
  lanes.forEach((x, k) => {
    synRow[x] = '|';
    replyRow[x] = silent && k === lanes.length - 1 ? 'X' : '|';
  });
  sightings.forEach((s, i) => {
    const from = lanes[i]! + 1;
    const span = lanes[i + 1]! - from;
    synRow.splice(from, span, ...arrowInward(synLabel(s), span));
    if (s.reply !== null) replyRow.splice(from, span, ...arrowOutward(s.reply, s.replyLost ? 'X' : '<', span));
  });
  return [header, synRow, replyRow].map((row) => row.join('').trimEnd());
}

/** One line per lane when the ladder would be too wide. */
function compactList(sightings: readonly Sighting[]): string[] {
  const nameWidth = Math.max(...sightings.map((s) => s.name.length));
  const synWidth = Math.max(...sightings.map((s) => synLabel(s).length));
  const replyWidth = Math.max(0, ...sightings.map((s, i) => replyCell(sightings, i).length));
  const lead = `${INDENT}  -> `;
  const inline = lead.length + nameWidth + 2 + synWidth + 2 + replyWidth <= WIDTH;
  const synColumn = inline ? synWidth : Math.max(...sightings.map((s) => s.syn.length));
  const replyAt = lead.length + nameWidth + 2 + synColumn + 2;

  const client = `${INDENT}client`;
  const clientCell = sightings[0]?.replyLost === true ? 'X  never acknowledged' : '';
  const lines = [clientCell === '' ? client : `${client.padEnd(replyAt)}${clientCell}`];
  sightings.forEach((s, i) => {
    const syn = inline ? synLabel(s) : s.syn;
    lines.push(`${lead}${s.name.padEnd(nameWidth)}  ${syn.padEnd(synColumn)}  ${replyCell(sightings, i)}`.trimEnd());
    if (!inline) for (const t of s.translations) lines.push(`${' '.repeat(lead.length + nameWidth + 2)}${t}`);
  });
  return lines;
}

/** The compact list's reply column for hop i: its own reply, or an X where the packets stopped. */
function replyCell(sightings: readonly Sighting[], i: number): string {
  const s = sightings[i]!;
  if (s.reply !== null) return `<- ${s.reply}`;
  const inner = sightings[i + 1];
  if (inner === undefined) return sightings.every((x) => x.reply === null) ? 'X  no SYN-ACK' : '';
  return inner.replyLost ? `X  no ${inner.replyKind}` : '';
}

function synLabel(s: Sighting): string {
  return [s.syn, ...s.translations].join(', ');
}

/** "--- label --->" filling span columns. */
function arrowInward(label: string, span: number): string[] {
  const [left, right] = dashes(label, span);
  return [...`${left} ${label} ${right}>`];
}

/** "<-- label ---" (or "X-- label ---" when it never arrived) filling span columns. */
function arrowOutward(label: string, head: '<' | 'X', span: number): string[] {
  const [left, right] = dashes(label, span);
  return [...`${head}${left} ${label} ${right}`];
}

/** The dashes either side of a label in an arrow of span columns (one column is the head). */
function dashes(label: string, span: number): [string, string] {
  const rest = span - label.length - 3;
  const left = Math.floor(rest / 2);
  return ['-'.repeat(left), '-'.repeat(rest - left)];
}

/** Cut to NAME_WIDTH; a short "@node1" at the end (a hop of several hosts) is kept: it tells the hops apart. */
function cut(name: string): string {
  if (name.length <= NAME_WIDTH) return name;
  const at = name.lastIndexOf('@');
  const host = at > 0 && name.length - at <= NAME_WIDTH / 2 ? name.slice(at) : '';
  return `${name.slice(0, NAME_WIDTH - 1 - host.length)}…${host}`;
}

function half(name: string): number {
  return Math.floor(name.length / 2);
}

function blank(width: number): string[] {
  return new Array<string>(width).fill(' ');
}
