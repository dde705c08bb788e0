import { ErrorCode, SynscopeError } from '../errors';

/** A JSON object as it came off the wire, before its fields are checked. */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parse a tool's JSON output that must be an array of objects (`ip -j ...`, Docker's
 * /networks). Entries that are not objects are dropped; anything else is an error
 * naming the source.
 */
export function parseJsonArray(text: string, source: string): JsonObject[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, `${source}: output is not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(value)) throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, `${source}: expected a JSON array`);
  return value.filter(isObject);
}

/** The string field `key`, or null when absent or not a string. */
export function str(o: JsonObject, key: string): string | null {
  const v = o[key];
  return typeof v === 'string' ? v : null;
}

/** The finite number field `key`, or null when absent or not a number. */
export function num(o: JsonObject, key: string): number | null {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
