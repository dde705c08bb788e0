import { eventLine } from '../report/ndjson';

/**
 * Docker's log drivers cut a line at 16 KiB (the rest follows as another message), and
 * some log pipelines keep only the pieces; so a fleet node never writes a longer line. An
 * event over MAX_EVENT_BYTES goes out as `chunk` events: its line in order, `index` 0 to
 * `count` - 1, with one `id`, each line well under the limit.
 */
export const MAX_EVENT_BYTES = 12 * 1024;
/** UTF-16 units of the original line per chunk: at most 3 bytes each in UTF-8, and '"' or '\' doubled by the escaping, well under the limit. */
const CHUNK_UNITS = 3000;

/** The event as one line, or as chunk lines when it is too long for one. */
export function chunkedEvent(line: string, id: string): string[] {
  if (Buffer.byteLength(line) <= MAX_EVENT_BYTES) return [line];
  const count = Math.ceil(line.length / CHUNK_UNITS);
  const out: string[] = [];
  for (let index = 0; index < count; index++) out.push(eventLine('chunk', { id, index, count, data: line.slice(index * CHUNK_UNITS, (index + 1) * CHUNK_UNITS) }));
  return out;
}

/** A chunk event's fields. */
export interface Chunk {
  id: string;
  index: number;
  count: number;
  data: string;
}

/**
 * Puts chunked events back together, per source (a node): the line once every index of an
 * id has come, whatever their order. What is still incomplete at the end says which ids
 * lost pieces.
 */
export class ChunkAssembler {
  private readonly open = new Map<string, { count: number; parts: (string | undefined)[]; have: number }>();

  /** The whole line when this chunk completes it, else null; a chunk that contradicts its id's count is an error. */
  add(c: Chunk): string | null {
    if (!Number.isInteger(c.count) || c.count < 1 || !Number.isInteger(c.index) || c.index < 0 || c.index >= c.count) throw new Error(`chunk ${c.id}: index ${c.index} of ${c.count}`);
    const open = this.open.get(c.id) ?? { count: c.count, parts: new Array<string | undefined>(c.count), have: 0 };
    if (open.count !== c.count) throw new Error(`chunk ${c.id}: count ${c.count}, earlier ${open.count}`);
    if (open.parts[c.index] === undefined) open.have++;
    open.parts[c.index] = c.data;
    if (open.have < open.count) {
      this.open.set(c.id, open);
      return null;
    }
    this.open.delete(c.id);
    return open.parts.join('');
  }

  /** Ids still missing pieces, with how many arrived. */
  incomplete(): { id: string; have: number; count: number }[] {
    return [...this.open].map(([id, o]) => ({ id, have: o.have, count: o.count }));
  }
}

/** A chunk event's fields, or null when the value is not one. */
export function asChunk(event: Record<string, unknown>): Chunk | null {
  const { id, index, count, data } = event;
  if (typeof id !== 'string' || typeof index !== 'number' || typeof count !== 'number' || typeof data !== 'string') return null;
  return { id, index, count, data };
}
