import { ErrorCode, SynscopeError } from '../errors';

const MAX_TIMER_MS = 2 ** 31 - 1;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000 };

/** "30s", "1.5m", "500ms", "2h", or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  const ms = m === null ? NaN : Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
  // setTimeout fires at once past 2^31 - 1 ms (24.8 days).
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_TIMER_MS) {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `--duration ${JSON.stringify(text)}: expected a positive time up to 24 days such as 30s, 2m, 500ms`);
  }
  return ms;
}
