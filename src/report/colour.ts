import type { Severity } from '../diagnose/finding';

/** ANSI colour for a report on a terminal; `plain` when piped, with NO_COLOR set, or not asked. */
export interface Paint {
  severity(s: Severity, text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const SEVERITY_CODES: Record<Severity, string> = { error: '1;31', warning: '1;33', info: '1;36' };

export const plain: Paint = {
  severity: (_s, text) => text,
  bold: (text) => text,
  dim: (text) => text,
};

export const ansi: Paint = {
  severity: (s, text) => `\x1b[${SEVERITY_CODES[s]}m${text}\x1b[0m`,
  bold: (text) => `\x1b[1m${text}\x1b[0m`,
  dim: (text) => `\x1b[2m${text}\x1b[0m`,
};

/**
 * Colour when writing to a terminal, unless NO_COLOR is set to anything non-empty
 * (no-color.org); FORCE_COLOR (non-empty, not "0") colours a pipe too.
 */
export function paintFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Paint {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return plain;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '' && force !== '0') return ansi;
  return stream.isTTY === true ? ansi : plain;
}

/** The visible width of text that may hold ANSI colour codes. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}
