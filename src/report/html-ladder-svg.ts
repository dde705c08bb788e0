import type { AttemptPath } from '../flow/attempt-path';
import type { Flow } from '../flow/flow';
import { sightingsOf, type Sighting } from './ladder';
import { INK, svgArrow, svgCross, svgLine, svgRoot, svgText, textWidth } from './svg-shapes';

const MARGIN = 16;
const NAME_Y = 20;
const SYN_Y = 58;
const LINE_HEIGHT = 15;
const MIN_LANE_GAP = 150;
/** Room either side of an arrow's label. */
const LABEL_PADDING = 36;

/**
 * One attempt's path as an SVG ladder, the picture ladder.ts draws in text: a lane for the
 * client and one per hop (outermost first) named by its interface, SYN arrows inward with
 * their count and, below them, how the tuple was rewritten (DNAT, SNAT); reply arrows outward
 * from each hop that saw a SYN-ACK, RST or ICMP error, ending in an X where the reply was not
 * seen at the next hop out; an X on the innermost lane when no hop saw any reply.
 */
export function ladderSvg(path: AttemptPath, flowsById: ReadonlyMap<string, Flow>): string {
  const sightings = sightingsOf(path, flowsById, (name) => name);
  const names = ['client', ...sightings.map((s) => s.name)];
  const lanes = laneXs(names, sightings);
  const translationLines = Math.max(0, ...sightings.map((s) => s.translations.length));
  const replyY = SYN_Y + 28 + translationLines * LINE_HEIGHT + 12;
  const height = replyY + 26;
  const width = lanes[lanes.length - 1]! + Math.max(textWidth(names[names.length - 1]!) / 2, 10) + MARGIN;

  const parts: string[] = [];
  names.forEach((name, k) => {
    parts.push(svgLine(lanes[k]!, NAME_Y + 8, lanes[k]!, height - 6, INK.lane, 2));
    parts.push(svgText(lanes[k]!, NAME_Y, name, { anchor: 'middle', weight: 'bold', fill: INK.text }));
  });
  sightings.forEach((s, i) => {
    const from = lanes[i]!;
    const to = lanes[i + 1]!;
    const middle = (from + to) / 2;
    parts.push(svgArrow(from + 3, to - 3, SYN_Y, INK.syn));
    parts.push(svgText(middle, SYN_Y - 7, s.syn, { anchor: 'middle', fill: INK.syn }));
    s.translations.forEach((t, j) => parts.push(svgText(middle, SYN_Y + 16 + j * LINE_HEIGHT, t, { anchor: 'middle', fill: INK.muted, italic: true })));
    if (s.reply !== null) parts.push(...replyArrow(s, from, to, replyY));
  });
  if (sightings.every((s) => s.reply === null)) {
    const last = lanes[lanes.length - 1]!;
    parts.push(svgCross(last, replyY - 4, INK.stop), svgText(last - 10, replyY + 16, 'no reply', { anchor: 'end', fill: INK.stop }));
  }
  const outer = path.hops[0]!;
  return svgRoot(width, height, 'ladder', `attempt ${path.id}: ${outer.client} to ${outer.server} through ${names.slice(1).join(', ')}`, parts.join(''));
}

/** The reply a hop saw, drawn from its lane towards the client's side; an X at the outer end when it was never seen there. */
function replyArrow(s: Sighting, outerLane: number, hopLane: number, y: number): string[] {
  const colour = s.replyKind === 'SYN-ACK' ? INK.synAck : INK.refusal;
  const label = svgText((outerLane + hopLane) / 2, y - 7, s.reply!, { anchor: 'middle', fill: colour });
  if (!s.replyLost) return [svgArrow(hopLane - 3, outerLane + 3, y, colour), label];
  return [svgLine(hopLane - 3, y, outerLane + 12, y, colour, 1.5, true), svgCross(outerLane + 8, y, INK.stop), label];
}

/** Lane positions: far enough apart for the arrow labels between them and the names above them. */
function laneXs(names: readonly string[], sightings: readonly Sighting[]): number[] {
  const lanes = [MARGIN + Math.max(textWidth(names[0]!) / 2, 10)];
  sightings.forEach((s, i) => {
    const labels = Math.max(textWidth(s.syn), textWidth(s.reply ?? ''), ...s.translations.map(textWidth)) + LABEL_PADDING;
    const namesApart = textWidth(names[i]!) / 2 + textWidth(names[i + 1]!) / 2 + 16;
    lanes.push(lanes[i]! + Math.max(labels, namesApart, MIN_LANE_GAP));
  });
  return lanes;
}
