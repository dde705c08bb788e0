import { escapeHtml } from './html-escape';

/**
 * The few SVG shapes the HTML report's pictures are drawn with, as markup strings. Arrow heads
 * are polygons rather than <marker>s: a page holds many SVGs, and marker ids would have to be
 * unique across all of them.
 */

/** Monospace, so a label's width is known without measuring it: about CHAR_WIDTH per character at FONT_SIZE. */
export const FONT_FAMILY = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace";
export const FONT_SIZE = 12;
export const CHAR_WIDTH = 7.3;

export function textWidth(text: string): number {
  return text.length * CHAR_WIDTH;
}

export interface TextStyle {
  anchor?: 'start' | 'middle' | 'end';
  fill?: string;
  weight?: 'bold';
  italic?: boolean;
  size?: number;
}

export function svgText(x: number, y: number, content: string, style: TextStyle = {}): string {
  const attributes = [
    `x="${r(x)}"`,
    `y="${r(y)}"`,
    style.anchor !== undefined && style.anchor !== 'start' ? `text-anchor="${style.anchor}"` : '',
    style.fill !== undefined ? `fill="${style.fill}"` : '',
    style.weight !== undefined ? `font-weight="${style.weight}"` : '',
    style.italic === true ? 'font-style="italic"' : '',
    style.size !== undefined ? `font-size="${style.size}"` : '',
  ].filter((a) => a !== '');
  return `<text ${attributes.join(' ')}>${escapeHtml(content)}</text>`;
}

export function svgLine(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1.5, dashed = false): string {
  return `<line x1="${r(x1)}" y1="${r(y1)}" x2="${r(x2)}" y2="${r(y2)}" stroke="${stroke}" stroke-width="${width}"${dashed ? ' stroke-dasharray="4 3"' : ''}/>`;
}

/** A horizontal arrow from x1 to x2 at y, its head at x2. */
export function svgArrow(x1: number, x2: number, y: number, colour: string): string {
  const dir = Math.sign(x2 - x1) || 1;
  const head = `${r(x2)},${r(y)} ${r(x2 - dir * 9)},${r(y - 4.5)} ${r(x2 - dir * 9)},${r(y + 4.5)}`;
  return svgLine(x1, y, x2 - dir * 8, y, colour) + `<polygon points="${head}" fill="${colour}"/>`;
}

/** An X centred on (x, y): where packets stopped. */
export function svgCross(x: number, y: number, colour: string, size = 6): string {
  return svgLine(x - size, y - size, x + size, y + size, colour, 2.5) + svgLine(x - size, y + size, x + size, y - size, colour, 2.5);
}

export function svgCircle(x: number, y: number, radius: number, fill: string, stroke = 'none'): string {
  return `<circle cx="${r(x)}" cy="${r(y)}" r="${radius}" fill="${fill}"${stroke === 'none' ? '' : ` stroke="${stroke}" stroke-width="1.5"`}/>`;
}

/** A triangle pointing up, centred on (x, y). */
export function svgTriangle(x: number, y: number, size: number, fill: string, stroke = 'none'): string {
  const points = `${r(x)},${r(y - size)} ${r(x - size)},${r(y + size * 0.8)} ${r(x + size)},${r(y + size * 0.8)}`;
  return `<polygon points="${points}" fill="${fill}"${stroke === 'none' ? '' : ` stroke="${stroke}" stroke-width="1.5"`}/>`;
}

/** A group with a tooltip (the browser shows <title> on hover). */
export function svgGroup(title: string, content: string): string {
  return `<g><title>${escapeHtml(title)}</title>${content}</g>`;
}

/** The root element: drawn at its natural size, shrunk to the page's width by the stylesheet. */
export function svgRoot(width: number, height: number, className: string, label: string, content: string): string {
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  return `<svg class="${className}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(label)}" font-family="${escapeHtml(FONT_FAMILY)}" font-size="${FONT_SIZE}">${content}</svg>`;
}

/** Coordinates to one decimal: smaller markup, no visible difference. */
function r(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** The pictures' colours: one per kind of packet, the same in the ladder and the timeline. */
export const INK = {
  syn: '#1f5fa8',
  synAck: '#1a7f37',
  refusal: '#c2410c',
  stop: '#b42318',
  lane: '#9aa3b2',
  text: '#1f2937',
  muted: '#6b7280',
} as const;
