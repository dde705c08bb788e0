import * as fs from 'node:fs';
import type { FileReader } from '../context/command';

/** The connection-tracking table of one network namespace: its entries, the kernel's limit, and, when nearly full, what fills it. */
export interface ConntrackTable {
  count: number;
  /** net.netfilter.nf_conntrack_max: one limit for the whole host, counted in each namespace. */
  max: number;
  /** The largest groups of entries, read only when the table is nearly full (NEAR_FULL); absent otherwise or when /proc/net/nf_conntrack cannot be read. */
  holders?: ConntrackHolder[];
}

/** Entries sharing protocol, state and destination port (of their original direction). */
export interface ConntrackHolder {
  protocol: string;
  /** TCP's state (ESTABLISHED, TIME_WAIT...), or "" for a protocol without one. */
  state: string;
  destinationPort: number;
  entries: number;
  /** Distinct source addresses, counted up to MAX_SOURCES. */
  sources: number;
  /** The source with the most of these entries (among the first MAX_SOURCES seen), and how many it has. */
  topSource: string;
  topSourceEntries: number;
}

/** A table this full is read entry by entry (a full one is 46 MB of text at the default limit). */
export const NEAR_FULL = 0.9;
const MAX_HOLDERS = 5;
export const MAX_SOURCES = 1000;
const MAX_GROUPS = 4096;
export const CONNTRACK_LISTING = '/proc/net/nf_conntrack';

/** The counters of /proc/net/stat/nf_conntrack the rules read, summed over the CPUs. */
const STAT_COUNTERS: Readonly<Record<string, string>> = {
  drop: 'Conntrack.Drop',
  early_drop: 'Conntrack.EarlyDrop',
  insert_failed: 'Conntrack.InsertFailed',
};

/**
 * The namespace's table, or null when nf_conntrack is not loaded (or the files cannot be
 * read). `listHolders` groups /proc/net/nf_conntrack's entries (measured on a full table of
 * 262,144 entries, 46 MB of text: 0.54 to 0.60 s and 8 MB of RSS; bench/conntrack-table.ts).
 */
export function readConntrackTable(readFile: FileReader, listHolders: (path: string) => ConntrackHolder[] | null = holdersOfListing): ConntrackTable | null {
  const count = Number(readFile('/proc/sys/net/netfilter/nf_conntrack_count')?.trim() ?? NaN);
  const max = Number(readFile('/proc/sys/net/netfilter/nf_conntrack_max')?.trim() ?? NaN);
  if (!Number.isInteger(count) || !Number.isInteger(max)) return null;
  if (max <= 0 || count < max * NEAR_FULL) return { count, max };
  const holders = listHolders(CONNTRACK_LISTING);
  return holders === null ? { count, max } : { count, max, holders };
}

/**
 * The holders of a listing file, read in 1 MiB pieces and grouped as they come: a full
 * table's 46 MB of text is never held whole (a live window's end, or a watch service's, runs
 * on a host in trouble). Null when the file cannot be read.
 */
export function holdersOfListing(path: string): ConntrackHolder[] | null {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const groups = new HolderGroups();
    const piece = Buffer.allocUnsafe(1 << 20);
    let rest = '';
    for (let n = fs.readSync(fd, piece); n > 0; n = fs.readSync(fd, piece)) {
      const text = rest + piece.toString('latin1', 0, n);
      const lastLine = text.lastIndexOf('\n') + 1;
      groups.addLines(text, 0, lastLine);
      rest = text.slice(lastLine);
    }
    groups.addLines(rest, 0, rest.length);
    return groups.largest();
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * /proc/net/stat/nf_conntrack (a header, then one line of hex values per CPU) as
 * "Conntrack.Drop": n summed over the CPUs. Drop counts packets dropped because the table
 * was full and no entry could be evicted for them.
 */
export function parseConntrackStats(text: string): Record<string, number> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = lines[0]?.trim().split(/\s+/) ?? [];
  const out: Record<string, number> = {};
  for (const [column, name] of Object.entries(STAT_COUNTERS)) {
    const k = head.indexOf(column);
    if (k < 0) continue;
    let sum = 0;
    for (const line of lines.slice(1)) {
      const value = parseInt(line.trim().split(/\s+/)[k] ?? '', 16);
      if (Number.isFinite(value)) sum += value;
    }
    out[name] = sum;
  }
  return out;
}

/**
 * The largest groups of /proc/net/nf_conntrack's entries ("ipv4 2 tcp 6 431999 ESTABLISHED
 * src=172.17.0.2 dst=192.0.2.30 sport=1024 dport=5432 src=... [ASSURED] ..."), by protocol,
 * state and destination port of the original direction, largest first, each with its
 * sources.
 */
export function conntrackHolders(listing: string): ConntrackHolder[] {
  const groups = new HolderGroups();
  groups.addLines(listing, 0, listing.length);
  return groups.largest();
}

/**
 * Entries grouped as they are read, each line scanned with indexOf rather than split into
 * words. At most MAX_GROUPS groups (a scan through the host makes one per port): entries of a
 * group first seen after that are left out, which cannot hide a group holding much of the
 * table, since entries come in hash order.
 */
class HolderGroups {
  private readonly groups = new Map<string, { protocol: string; state: string; destinationPort: number; entries: number; bySource: Map<string, number> }>();

  addLines(text: string, from: number, to: number): void {
    let start = from;
    while (start < to) {
      let end = text.indexOf('\n', start);
      if (end < 0 || end > to) end = to;
      const entry = parseEntry(text, start, end);
      start = end + 1;
      if (entry !== null) this.add(entry);
    }
  }

  largest(): ConntrackHolder[] {
    return [...this.groups.values()]
      .sort((a, b) => b.entries - a.entries)
      .slice(0, MAX_HOLDERS)
      .map(({ bySource, ...g }) => {
        let top = ['', 0] as [string, number];
        for (const s of bySource) if (s[1] > top[1]) top = s;
        return { ...g, sources: bySource.size, topSource: top[0], topSourceEntries: top[1] };
      });
  }

  private add(entry: { protocol: string; state: string; source: string; destinationPort: number }): void {
    const key = `${entry.protocol} ${entry.state} ${entry.destinationPort}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      if (this.groups.size >= MAX_GROUPS) return;
      group = { protocol: entry.protocol, state: entry.state, destinationPort: entry.destinationPort, entries: 0, bySource: new Map() };
      this.groups.set(key, group);
    }
    group.entries++;
    const n = group.bySource.get(entry.source);
    if (n !== undefined) group.bySource.set(entry.source, n + 1);
    else if (group.bySource.size < MAX_SOURCES) group.bySource.set(entry.source, 1);
  }
}

/** One line of the listing, from `start` to `end`: its layer 4 name, TCP state and original direction, or null. */
function parseEntry(text: string, start: number, end: number): { protocol: string; state: string; source: string; destinationPort: number } | null {
  // Layer 3 name and number, then the layer 4 name and number, the seconds left, and for TCP the state.
  const words: string[] = [];
  let at = start;
  while (words.length < 6 && at < end) {
    while (at < end && text.charCodeAt(at) === 32) at++;
    const next = text.indexOf(' ', at);
    const wordEnd = next < 0 || next > end ? end : next;
    words.push(text.slice(at, wordEnd));
    at = wordEnd;
  }
  if (words.length < 6) return null;
  const state = /^[A-Z_]+$/.test(words[5]!) ? words[5]! : '';
  const source = fieldValue(text, ' src=', start, end);
  const port = Number(fieldValue(text, ' dport=', start, end) ?? 0);
  return source === null ? null : { protocol: words[2]!, state, source, destinationPort: port };
}

/** The value of the line's first `name` field ("src=" preceded by a space), or null. */
function fieldValue(text: string, name: string, start: number, end: number): string | null {
  const at = text.indexOf(name, start);
  if (at < 0 || at >= end) return null;
  const from = at + name.length;
  const next = text.indexOf(' ', from);
  return text.slice(from, next < 0 || next > end ? end : next);
}
