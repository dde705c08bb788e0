/** One column of a text table; `optional` columns are the first left out when the table is too wide. */
export interface Column {
  head: string;
  optional?: boolean;
  /** Numbers read better right-aligned. */
  right?: boolean;
}

const GAP = '  ';
const ELLIPSIS = '…';

/**
 * A table as `ss` and `docker ps` print one: a header row, columns two spaces apart, no
 * borders, one line per row, so it greps and fits. When wider than `width`, optional columns
 * go first (from the right, and a note says which), then the widest cells are cut with "…".
 */
export function textTable(columns: readonly Column[], rows: readonly (readonly (string | number)[])[], width: number): string {
  const cells = rows.map((r) => r.map(String));
  let shown = columns.map((_, i) => i);
  const widthOf = (i: number) => Math.max(columns[i]!.head.length, ...cells.map((r) => (r[i] ?? '').length));
  const total = (cols: number[]) => cols.reduce((sum, i) => sum + widthOf(i), 0) + GAP.length * (cols.length - 1);
  const left: string[] = [];
  for (let i = columns.length - 1; i >= 0 && total(shown) > width; i--) {
    if (columns[i]!.optional === true) {
      shown = shown.filter((c) => c !== i);
      left.unshift(columns[i]!.head);
    }
  }
  const widths = new Map(shown.map((i) => [i, widthOf(i)]));
  let over = total(shown) - width;
  while (over > 0) {
    const [widest, w] = [...widths].reduce((a, b) => (b[1] > a[1] ? b : a));
    if (w <= 4) break;
    widths.set(widest, w - 1);
    over--;
  }
  const line = (values: readonly string[]) =>
    shown
      .map((i, k) => {
        const w = widths.get(i)!;
        const v = values[i] ?? '';
        const cut = v.length > w ? v.slice(0, w - 1) + ELLIPSIS : v;
        const last = k === shown.length - 1;
        if (columns[i]!.right === true) return cut.padStart(w);
        return last ? cut : cut.padEnd(w);
      })
      .join(GAP)
      .trimEnd();
  const out = [line(columns.map((c) => c.head)), ...cells.map(line)];
  if (left.length > 0) out.push(`(left out to fit ${width} columns: ${left.join(', ')}; --json has them)`);
  return out.join('\n');
}

/** The width to fit: the terminal's, else $COLUMNS, else 100 (a pipe or a file). */
export function reportWidth(stream: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv = process.env): number {
  if (stream.isTTY === true && stream.columns !== undefined && stream.columns > 0) return stream.columns;
  const columns = Number(env['COLUMNS']);
  return Number.isInteger(columns) && columns >= 40 ? columns : 100;
}
