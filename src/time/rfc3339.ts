/**
 * The one place capture times become text. Every time synscope prints (report JSON,
 * evidence, the text report) is RFC 3339 UTC with a four-digit year, 0001 to 9999, or
 * null: a clock outside that range (a pcapng if_tsoffset or timestamp near 2^64) has no
 * such text, and printing Date's "+148108-..." or a bare number would break consumers.
 */

/** 0001-01-01T00:00:00Z in Unix seconds. */
export const FIRST_RFC3339_SECOND = -62135596800;
/** 10000-01-01T00:00:00Z in Unix seconds: the first second past year 9999. */
export const END_RFC3339_SECOND = 253402300800;

/** Whether `epochSeconds` has an RFC 3339 text (years 0001..9999). */
export function hasRfc3339(epochSeconds: number): boolean {
  return Number.isFinite(epochSeconds) && epochSeconds >= FIRST_RFC3339_SECOND && epochSeconds < END_RFC3339_SECOND;
}

/**
 * "2026-11-22T13:13:08.508792Z": Unix seconds as RFC 3339 UTC with `digits` fraction
 * digits (6, capture clocks are finer than milliseconds, rounded; or 3, truncated as
 * Date does). Null when the time is outside years 0001..9999 or not a number.
 */
export function rfc3339(epochSeconds: number, digits: 3 | 6 = 6): string | null {
  if (!hasRfc3339(epochSeconds)) return null;
  let whole: number;
  let fraction: number;
  if (digits === 3) {
    const ms = Math.floor(epochSeconds * 1000);
    whole = Math.floor(ms / 1000);
    fraction = ms - whole * 1000;
  } else {
    whole = Math.floor(epochSeconds);
    fraction = Math.round((epochSeconds - whole) * 1e6);
    if (fraction === 1e6) {
      whole += 1;
      fraction = 0;
    }
  }
  if (whole >= END_RFC3339_SECOND) return null;
  return `${new Date(whole * 1000).toISOString().slice(0, 19)}.${String(fraction).padStart(digits, '0')}Z`;
}

/** RFC 3339 text with a four-digit year 0001..9999 and a `Z` or numeric offset, as a context file's `capturedAt` must be. */
export const RFC3339_PATTERN = '^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$';
