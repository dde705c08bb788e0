import { ErrorCode, SynscopeError } from '../errors';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 };

/** "30s", "1.5m", "500ms", "2h", or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m === null ? NaN : Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `--duration ${JSON.stringify(text)}: expected a positive time such as 30s, 2m, 500ms`);
  }
  return ms;
}
