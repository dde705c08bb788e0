import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { KernelEvent, KernelEvidence } from './kernel-evidence';
import { newInstanceName, newMountPrefix, removeTraceLeftovers } from './trace-leftovers';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, TraceEventCollector } from './trace-lines';

type Unavailable = KernelEvidence['unavailable'][number];

export interface TraceSessionOptions {
  /** Ring buffer per CPU in KB (default: 64 MB shared by all CPUs, 256 to 4096 KB each). */
  bufferKbPerCpu?: number;
  /** Events kept; later ones are only counted (default 100,000). */
  maxEvents?: number;
  /** false mounts a private tracefs even when one is mounted already (default true: reuse it). */
  useExistingMount?: boolean;
}

export interface TraceSessionResult {
  /** Drops and SYN-ACK retransmissions, in time order, times in Unix seconds. */
  events: KernelEvent[];
  /** Events that could not be recorded or kept, and why. */
  unavailable: Unavailable[];
  /** Events the trace ring buffer had no room for. */
  lost: number;
}

/** A recording in progress. Call stop() once, or abort() to clean up without reading. */
export interface TraceSession {
  /** The session's private trace instance (instances/synscope-<pid>-<8 random hex digits>). */
  readonly instanceDir: string;
  /** The temporary tracefs mount point the session made, or null when it uses an existing mount. */
  readonly mountPoint: string | null;
  /**
   * Disables the events, reads them, removes the instance and any temporary mount.
   * Synchronous, so it fits the same place as the counters' second reading; the trace
   * file is read in chunks, never whole.
   */
  stop(): TraceSessionResult;
  /** Removes the instance and any temporary mount now, synchronously (for SIGINT and exit handlers). */
  abort(): void;
}

/** A running session, or why none could start. */
export type TraceStart =
  | { readonly ok: true; readonly session: TraceSession }
  | { readonly ok: false; readonly unavailable: Unavailable[] };

interface TracedEvent {
  readonly source: string;
  readonly dir: string;
}

const KFREE_SKB: TracedEvent = { source: 'skb:kfree_skb', dir: 'events/skb/kfree_skb' };
const RETRANSMIT_SYNACK: TracedEvent = { source: 'tcp:tcp_retransmit_synack', dir: 'events/tcp/tcp_retransmit_synack' };
const DEFAULT_MAX_EVENTS = 100_000;
const TOTAL_BUFFER_KB = 64 * 1024;
/** Where distributions mount tracefs, preferred over any other tracefs mount. */
const USUAL_MOUNTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/**
 * Starts recording skb:kfree_skb drop reasons and tcp:tcp_retransmit_synack in a private
 * tracefs instance: the top-level buffer and every other instance stay untouched. Needs
 * root. Events are global to the host (every network namespace), and their times come
 * from the instance's "mono" trace clock, CLOCK_MONOTONIC like process.hrtime(), shifted
 * to Unix time by an offset taken once at the start.
 */
export function startTraceSession(options: TraceSessionOptions = {}): TraceStart {
  if (process.getuid?.() !== 0) return { ok: false, unavailable: [{ source: 'tracefs', reason: 'tracefs needs root' }] };
  const notes: Unavailable[] = [];
  let root = options.useExistingMount === false ? null : findTracefsMount();
  let mountPoint: string | null = null;
  if (root === null) {
    const mounted = mountPrivateTracefs();
    if (typeof mounted !== 'string') return { ok: false, unavailable: [mounted] };
    root = mountPoint = mounted;
  }
  removeTraceLeftovers(root, mountPoint);
  const session = new Session(root, mountPoint, options.maxEvents ?? DEFAULT_MAX_EVENTS);
  try {
    const problem = session.setUp(options.bufferKbPerCpu ?? defaultBufferKb(), notes);
    if (problem !== null) {
      session.abort();
      return { ok: false, unavailable: [...notes, problem] };
    }
  } catch (e) {
    session.abort();
    return { ok: false, unavailable: [...notes, { source: 'tracefs', reason: `cannot set up a trace instance: ${message(e)}` }] };
  }
  return { ok: true, session };
}

class Session implements TraceSession {
  readonly instanceDir: string;
  private readonly notes: Unavailable[] = [];
  private readonly enabled: string[] = [];
  private clockOffset = 0;
  private instanceMade = false;
  /** A file of the instance held open while it runs: the kernel refuses to remove it, or its mount, meanwhile (trace-leftovers.ts). */
  private hold: number | null = null;
  private mounted: boolean;
  private result: TraceSessionResult | null = null;
  private bufferKb = 0;
  private readonly onExit = () => this.abort();

  constructor(
    root: string,
    readonly mountPoint: string | null,
    private readonly maxEvents: number,
  ) {
    this.mounted = mountPoint !== null;
    this.instanceDir = path.join(root, 'instances', newInstanceName());
    process.once('exit', this.onExit);
  }

  /** Null when recording runs, else why it cannot; `notes` gets what is missing but not fatal. */
  setUp(bufferKb: number, notes: Unavailable[]): Unavailable | null {
    fs.mkdirSync(this.instanceDir);
    this.instanceMade = true;
    this.hold = fs.openSync(this.file('tracing_on'), 'r');
    const clocks = read(this.file('trace_clock')) ?? '';
    if (!/(^|\s)\[?mono\]?(\s|$)/.test(clocks)) {
      return { source: 'tracefs', reason: 'no "mono" trace clock: event times could not be matched to the capture' };
    }
    fs.writeFileSync(this.file('trace_clock'), 'mono');
    this.bufferKb = bufferKb;
    if (!tryWrite(this.file('buffer_size_kb'), String(bufferKb))) {
      notes.push({ source: 'tracefs', reason: `could not size the trace buffer to ${bufferKb} KB per CPU; the kernel's default size is used` });
    }
    // Keep the first events of the window when the buffer fills; the kernel counts the rest.
    tryWrite(this.file('options/overwrite'), '0');

    const format = read(this.file(`${KFREE_SKB.dir}/format`));
    if (format === null) {
      notes.push({ source: KFREE_SKB.source, reason: 'this kernel has no skb:kfree_skb trace event' });
    } else if (!/\breason\b/.test(format)) {
      notes.push({ source: KFREE_SKB.source, reason: 'this kernel records no drop reasons (they came with Linux 5.17)' });
    } else {
      // Filtering in the kernel keeps a busy host's unrelated frees out of the buffer.
      const notSpecified = /\{\s*(\d+),\s*"NOT_SPECIFIED"\s*\}/.exec(format)?.[1];
      const protocols = `(protocol == ${ETHERTYPE_IPV4} || protocol == ${ETHERTYPE_IPV6})`;
      tryWrite(this.file(`${KFREE_SKB.dir}/filter`), notSpecified === undefined ? protocols : `reason != ${notSpecified} && ${protocols}`);
      this.enable(KFREE_SKB);
    }
    if (fs.existsSync(this.file(`${RETRANSMIT_SYNACK.dir}/enable`))) this.enable(RETRANSMIT_SYNACK);
    else notes.push({ source: RETRANSMIT_SYNACK.source, reason: 'this kernel has no tcp:tcp_retransmit_synack trace event (it came with Linux 4.16)' });
    if (this.enabled.length === 0) return { source: 'tracefs', reason: 'none of the trace events synscope records exists on this kernel' };

    fs.writeFileSync(this.file('tracing_on'), '1');
    this.clockOffset = Date.now() / 1000 - Number(process.hrtime.bigint()) / 1e9;
    this.notes.push(...notes);
    return null;
  }

  stop(): TraceSessionResult {
    this.result ??= this.finish();
    return this.result;
  }

  abort(): void {
    this.cleanUp(this.notes);
  }

  private finish(): TraceSessionResult {
    const notes = this.notes;
    const collector = new TraceEventCollector(this.clockOffset, this.maxEvents);
    let lostByKernel = 0;
    try {
      this.disableEvents();
      tryWrite(this.file('tracing_on'), '0');
      lostByKernel = this.lostByKernel();
      if (this.instanceMade) readLines(this.file('trace'), (line) => collector.add(line));
    } catch (e) {
      notes.push({ source: 'tracefs', reason: `cannot read the recorded events: ${message(e)}` });
    } finally {
      this.cleanUp(notes);
    }
    const lost = Math.max(lostByKernel, collector.lost);
    if (lost > 0) notes.push({ source: 'tracefs', reason: `${lost} trace events lost: the trace buffer (${this.bufferKb} KB per CPU) filled, and the events kept are the first ones` });
    if (collector.notKept > 0) notes.push({ source: 'tracefs', reason: `${collector.notKept} trace events not kept: only the first ${this.maxEvents} are` });
    const events = collector.events.sort((a, b) => a.at - b.at);
    return { events, unavailable: notes, lost };
  }

  private enable(event: TracedEvent): void {
    const file = this.file(`${event.dir}/enable`);
    fs.writeFileSync(file, '1');
    this.enabled.push(file);
  }

  private disableEvents(): void {
    for (const file of this.enabled.splice(0)) tryWrite(file, '0');
  }

  /** Events the ring buffer refused (overwrite off) or overwrote, summed over CPUs. */
  private lostByKernel(): number {
    let lost = 0;
    let cpus: string[];
    try {
      cpus = fs.readdirSync(this.file('per_cpu'));
    } catch {
      return 0;
    }
    for (const cpu of cpus) {
      const stats = read(this.file(`per_cpu/${cpu}/stats`)) ?? '';
      for (const m of stats.matchAll(/^(?:overrun|dropped events): (\d+)/gm)) lost += Number(m[1]);
    }
    return lost;
  }

  /**
   * Idempotent, and each step is retried by a later call until it succeeds (an instance
   * cannot be removed while its trace file is open). The temporary mount is undone as
   * well: nothing of the host's mount table, or of the instances, remains.
   */
  private cleanUp(notes: Unavailable[]): void {
    this.disableEvents();
    if (this.hold !== null) {
      fs.closeSync(this.hold);
      this.hold = null;
    }
    if (this.instanceMade) {
      try {
        fs.rmdirSync(this.instanceDir);
        this.instanceMade = false;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.instanceMade = false;
        else notes.push({ source: 'tracefs', reason: `cannot remove the trace instance ${this.instanceDir}: ${message(e)}` });
      }
    }
    if (this.mounted && !this.instanceMade && unmount(this.mountPoint!, notes)) this.mounted = false;
    if (!this.instanceMade && !this.mounted) process.removeListener('exit', this.onExit);
  }

  private file(relative: string): string {
    return path.join(this.instanceDir, relative);
  }
}

/** The mount point of a tracefs in this mount namespace, or null. */
function findTracefsMount(): string | null {
  const mounts = read('/proc/self/mounts');
  if (mounts === null) return null;
  const points = mounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[2] === 'tracefs' && f[1] !== undefined)
    .map((f) => f[1]!.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))))
    .filter((p) => fs.existsSync(path.join(p, 'instances')));
  // Only the system's own mount points: a temporary one belongs to another session, which
  // may unmount it in the middle of this one.
  return USUAL_MOUNTS.find((p) => points.includes(p)) ?? null;
}

/** Mounts tracefs on a fresh temporary directory; the mount point, or why not. */
function mountPrivateTracefs(): string | Unavailable {
  let dir: string;
  try {
    dir = fs.mkdtempSync(newMountPrefix());
  } catch (e) {
    return { source: 'tracefs', reason: `no tracefs mounted, and no directory to mount one on: ${message(e)}` };
  }
  const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', dir], { encoding: 'utf8', timeout: 5000 });
  if (r.status === 0) return dir;
  try {
    fs.rmdirSync(dir);
  } catch {
    // Left behind empty; nothing was mounted on it.
  }
  const why = r.error !== undefined ? message(r.error) : r.stderr.trim() || `mount exited with ${r.status}`;
  return { source: 'tracefs', reason: `no tracefs mounted, and mounting one failed: ${why}` };
}

/** Unmounts and removes a temporary mount point; lazily when something still holds it. */
function unmount(dir: string, notes: Unavailable[]): boolean {
  const plain = spawnSync('umount', [dir], { encoding: 'utf8', timeout: 5000 });
  if (plain.status !== 0) {
    const lazy = spawnSync('umount', ['-l', dir], { encoding: 'utf8', timeout: 5000 });
    if (lazy.status !== 0) {
      notes.push({ source: 'tracefs', reason: `cannot unmount the temporary tracefs at ${dir}: ${lazy.stderr.trim() || plain.stderr.trim()}` });
      return false;
    }
  }
  try {
    fs.rmdirSync(dir);
  } catch (e) {
    notes.push({ source: 'tracefs', reason: `cannot remove the temporary mount point ${dir}: ${message(e)}` });
  }
  return true;
}

/** Reads a text file line by line, a chunk at a time, without holding it whole; the file is closed on return. */
function readLines(file: string, onLine: (line: string) => void): void {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(1 << 16);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (let n; (n = fs.readSync(fd, chunk, 0, chunk.length, null)) > 0; ) {
      const lines = (rest + decoder.write(chunk.subarray(0, n))).split('\n');
      rest = lines.pop()!;
      for (const line of lines) onLine(line);
    }
    rest += decoder.end();
    if (rest !== '') onLine(rest);
  } finally {
    fs.closeSync(fd);
  }
}

function defaultBufferKb(): number {
  return Math.min(4096, Math.max(256, Math.floor(TOTAL_BUFFER_KB / Math.max(1, os.cpus().length))));
}

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function tryWrite(file: string, value: string): boolean {
  try {
    fs.writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
