import * as os from 'node:os';
import { StreamingAnalysis, type Analysis, type AnalyzeOptions, type LiveCounts } from '../analysis';
import { FileSink } from '../capture/byte-sink';
import { PcapngWriter } from '../capture/pcapng-writer';
import { newPacketRecord } from '../capture/record';
import { bridgesFromContext } from '../context/context-bridges';
import { emptyHostContext } from '../context/empty-context';
import type { HostContext } from '../context/host-context';
import { currentNamespaceLabel } from '../context/netns-label';
import type { KernelAvailability } from '../evidence/kernel-availability';
import type { KernelEvidence } from '../evidence/kernel-evidence';
import { writeHostContext } from '../context/write-context';
import { headerEnd } from '../decode/header-end';
import { DecodedPacket } from '../decode/packet';
import { LinkType, linkTypeName } from '../decode/link-types';
import { ErrorCode, SynscopeError } from '../errors';
import { loadNativeAddon } from '../native/addon';
import { inNetns } from '../netns/in-netns';
import type { ResolvedNamespace } from '../netns/namespace-spec';
import type { CaptureBackend, HandleStats, LiveHandle } from './capture-backend';
import { DEFAULT_FILTER } from './capture-defaults';
import { captureDropWarnings, type InterfaceDrops } from './capture-drops';
import { filterEvidenceWarning } from './filter-evidence';
import { KernelWindow } from './kernel-window';
import { withSysctlsAtEnd } from '../context/sysctl-changes';
import { LiveSource } from './live-source';
import { bridgeCaptureWarnings } from './bridge-capture-warning';
import { collectNamespaceContext } from './namespace-context';
import { namespaceInterfaces } from './namespace-interfaces';

/** One interface to capture on, in the namespace synscope runs in (namespace null) or another one. */
export interface LiveTarget {
  device: string;
  namespace: ResolvedNamespace | null;
}

/** A target as the command line names it: "eth0", or "ingress_sbox:eth1" inside another namespace. */
export function targetName(target: LiveTarget): string {
  return target.namespace === null ? target.device : `${target.namespace.label}:${target.device}`;
}

export interface LiveCaptureOptions {
  targets: readonly LiveTarget[];
  backend: CaptureBackend;
  filter: string;
  snaplen: number;
  bufferBytes: number;
  /** Stop after this long; null runs until `stop` aborts. */
  durationMs: number | null;
  /** Stop after this many packets, as tcpdump -c (over every interface together); null: no limit. */
  maxPackets?: number | null;
  /** pcapng file to write every captured packet to (and FILE.context.json beside it), `-` for standard output (no context file), or null. */
  write: string | null;
  /** Write packets as captured; by default each is cut after its last decoded header (original length kept). */
  keepPayload?: boolean;
  /**
   * Also receives every packet as --write would write it (cut unless keepPayload), with the
   * index of its target: how watch fills its ring of files. `bytes` is the backend's buffer,
   * valid only during the call.
   */
  tap?: (i: number, bytes: Uint8Array, tsSec: number, tsNsec: number, origLen: number) => void;
  /** Report options (bridges given by hand, all flows...). */
  analyze: AnalyzeOptions;
  /** Record kernel drop reasons through tracefs when possible. */
  trace: boolean;
  /** The Docker Engine API socket the host context asks for networks (default /var/run/docker.sock). */
  dockerSocket?: string;
  /** The first window's host context when the caller collected it already (collectNamespaceContext of the first target's namespace). */
  context?: Promise<HostContext>;
  onProgress?: (progress: LiveProgress) => void;
  /** Called once every handle is open, before the first packet is read. */
  onCapturing?: () => void;
}

export interface LiveProgress {
  seconds: number;
  interfaces: { name: string; packets: number }[];
  counts: LiveCounts;
}

export interface LiveResult {
  analysis: Analysis;
  /** The host context of the first target's namespace, with the kernel evidence of the window. */
  context: HostContext;
  /** Where the context was written (beside --write), or null. */
  contextPath: string | null;
  /** Packets seen per interface, with libpcap's drops when the backend reports them. */
  interfaces: { name: string; packets: number; dropped: number | null }[];
}

const POLL_INTERVAL_MS = 2;
/** One poll moves one batch per handle; a full 32 MiB ring of 256-byte snaps empties in a few rounds. */
const MAX_DRAIN_ROUNDS = 64;
/**
 * A several-interface capture holds packets this long (seconds) before handing them over,
 * merged in time order across its handles: a packet is in its handle's ring well within it
 * (immediate mode, a poll every POLL_INTERVAL_MS).
 */
const HOLD_SECONDS = 0.02;

/** A packet of a several-interface capture waiting to be handed over in time order (a copy: the backend reuses its buffer). */
interface HeldPacket {
  i: number;
  data: Buffer;
  origLen: number;
  tsSec: number;
  tsNsec: number;
}
const PROGRESS_INTERVAL_MS = 200;
/** `--write -`: the pcapng goes to standard output, as `tcpdump -w -`. */
export const WRITE_TO_STDOUT = '-';

/** --write reaches the disk at least this often, so a killed run leaves all but the last moments. */
const FLUSH_INTERVAL_MS = 250;
const UNFINISHED: HostContext['unavailable'][number] = {
  source: 'kernel evidence',
  reason: 'written as the capture started: synscope live did not finish, so the counters and trace events of the window are missing',
};

/**
 * Capture on every target at once until the duration ends or `stop` aborts, feeding one
 * streaming analysis (and the --write file), then read the kernel's side of the window
 * and diagnose. A handle opened inside another namespace keeps delivering that
 * namespace's packets after the thread has returned to its own.
 */
export async function runLiveCapture(options: LiveCaptureOptions, stop: AbortSignal): Promise<LiveResult> {
  const run = new LiveRun(options);
  try {
    run.open();
    options.onCapturing?.();
    await run.capture(stop);
    return await run.finish();
  } finally {
    run.release();
  }
}

/**
 * One capture over a set of interfaces. live runs it as one window (open, capture, finish);
 * watch keeps it open and calls rotate() every window, which hands the packets from then
 * on to a new analysis while the handles stay open, so no packet falls between windows.
 */
export class LiveRun {
  private readonly primary: ResolvedNamespace | null;
  private readonly names: string[];
  private readonly handles: LiveHandle[] = [];
  private filterWarnings: string[] = [];
  private sources: LiveSource[] = [];
  private kernel: KernelWindow;
  /** libpcap's counters when the current window began (they count from the open). */
  private statsAtWindowStart: (HandleStats | null)[] = [];
  private analysis: StreamingAnalysis | null = null;
  private writer: PcapngWriter | null = null;
  private contextPromise: Promise<HostContext> | null = null;
  private readonly started = Date.now();
  private flushedAt = 0;
  private contextFinal = false;
  private readonly cutScratch = new DecodedPacket();
  private delivered = 0;
  private records: ReturnType<typeof newPacketRecord>[] = [];
  /** Packets of a several-interface capture not handed over yet (mergeHeld). */
  private held: HeldPacket[] = [];
  private readonly closeOnExit = () => {
    try {
      this.writer?.close();
    } catch {
      // Exiting anyway: what was flushed stays.
    }
  };

  constructor(private readonly options: LiveCaptureOptions) {
    this.primary = options.targets[0]?.namespace ?? null;
    this.names = options.targets.map((t) => interfaceName(t, this.primary));
    this.kernel = new KernelWindow(distinctNamespaces(options.targets), options.trace);
  }

  /** Check every interface, open every handle, read the counters; all before any packet is taken. */
  open(): void {
    const { targets, backend } = this.options;
    for (const target of targets) inNetns(target.namespace, () => checkDevice(target, this.primary));
    const records = targets.map(() => newPacketRecord());
    this.records = records;
    const merge = targets.length > 1;
    for (const [i, target] of targets.entries()) {
      const request = { device: target.device, filter: this.options.filter, snaplen: this.options.snaplen, bufferBytes: this.options.bufferBytes };
      const rec = records[i]!;
      const handle = inNetns(target.namespace, () =>
        backend.open(request, (data, offset, caplen, origLen, tsSec, tsNsec) => {
          if (!merge) {
            this.deliver(i, rec, data, offset, caplen, origLen, tsSec, tsNsec);
            return;
          }
          // Several interfaces: held for a moment and handed over in time order (mergeHeld).
          this.held.push({ i, data: Buffer.from(data.subarray(offset, offset + caplen)), origLen, tsSec, tsNsec });
        }),
      );
      rec.linkType = handle.linkType;
      this.handles.push(handle);
      checkAnyLinkType(target, handle.linkType, backend.name);
    }
    this.filterWarnings = filterWarnings(this.options.filter, this.handles);
    this.sources = this.newSources();
    this.statsAtWindowStart = this.handles.map(() => null);
    // Packets wait in the kernel rings until the first poll, after the counters are read.
    this.kernel.begin();
    this.analysis = new StreamingAnalysis(this.sources, this.options.analyze);
    this.contextPromise = this.options.context ?? collectNamespaceContext(this.primary, this.options.dockerSocket);
    if (this.options.write !== null) {
      this.writer = this.openWriter(this.options.write);
      if (this.options.write !== WRITE_TO_STDOUT) this.writeStartContext(this.options.write);
    }
  }

  /**
   * Poll the handles until the duration has passed or `stop` aborts, then drain what is
   * still waiting in the kernel rings. A capture that fails on the way (an interface
   * removed, a disk full) stops the capture and is thrown once the timers are gone.
   */
  async capture(stop: AbortSignal): Promise<void> {
    let failure: unknown = null;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        try {
          this.poll();
          if (this.countReached()) done();
        } catch (e) {
          failure = e;
          done();
        }
      }, POLL_INTERVAL_MS);
      const progress = setInterval(() => this.progress(), PROGRESS_INTERVAL_MS);
      const done = () => {
        clearInterval(poll);
        clearInterval(progress);
        if (timer !== null) clearTimeout(timer);
        stop.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.options.durationMs === null ? null : setTimeout(done, this.options.durationMs);
      if (stop.aborted) done();
      else stop.addEventListener('abort', done);
    });
    if (failure !== null) throw failure;
    for (let round = 0; round < MAX_DRAIN_ROUNDS && this.poll() > 0; round++);
    this.mergeHeld(Infinity);
  }

  async finish(): Promise<LiveResult> {
    const drops: InterfaceDrops[] = [];
    for (const [i, handle] of this.handles.entries()) {
      const stats = handle.stats();
      drops.push({ name: this.names[i]!, stats: windowStats(this.statsAtWindowStart[i] ?? null, stats) });
      const source = this.sources[i]!;
      source.ended();
      if (this.writer !== null) {
        const { sec, nsec } = nowParts();
        const fromMs = Math.round(source.interfaces[0]!.capturedFrom! * 1000);
        const startedAt = { sec: Math.floor(fromMs / 1000), nsec: (fromMs % 1000) * 1e6 };
        this.writer.writeStatistics(i, stats === null ? { received: source.stats.packets } : { received: stats.received, dropped: stats.dropped + stats.ifDropped }, sec, nsec, startedAt);
      }
      handle.close();
    }
    this.handles.length = 0;
    this.closeWriter();
    await yieldToEventLoop();
    const evidence = this.kernel.end();
    const result = await this.diagnose({ analysis: this.analysis!, sources: this.sources, kernel: this.kernel, context: this.contextPromise!, drops }, evidence);
    const contextPath = this.options.write === null || this.options.write === WRITE_TO_STDOUT ? null : contextPathFor(this.options.write);
    this.contextFinal = true;
    if (contextPath !== null) writeHostContext(contextPath, result.context);
    return { ...result, contextPath };
  }

  /** The kernel evidence the current window collects, and why not what it does not (after open()). */
  kernelAvailability(): KernelAvailability[] {
    return this.kernel.availability();
  }

  /**
   * End the current window and start the next without closing a handle: what the rings
   * hold now goes to the ending window, every later packet to a new analysis (with
   * `nextAnalyze`'s options), with its own counters, trace session and host context.
   * Resolves to the ended window's result once it is diagnosed; polling goes on meanwhile.
   * Not for a run that writes a file.
   */
  async rotate(nextAnalyze: AnalyzeOptions = this.options.analyze): Promise<LiveResult> {
    for (let round = 0; round < MAX_DRAIN_ROUNDS && this.poll() > 0; round++);
    this.mergeHeld(Infinity);
    const drops: InterfaceDrops[] = this.handles.map((h, i) => {
      const now = h.stats();
      const window = windowStats(this.statsAtWindowStart[i] ?? null, now);
      this.statsAtWindowStart[i] = now;
      return { name: this.names[i]!, stats: window };
    });
    const ended = { analysis: this.analysis!, sources: this.sources, kernel: this.kernel, context: this.contextPromise!, drops };
    for (const s of ended.sources) s.ended();
    const evidence = ended.kernel.end();
    this.sources = this.newSources();
    this.kernel = new KernelWindow(distinctNamespaces(this.options.targets), this.options.trace);
    this.kernel.begin(ended.kernel);
    this.analysis = new StreamingAnalysis(this.sources, nextAnalyze);
    this.contextPromise = collectNamespaceContext(this.primary, this.options.dockerSocket);
    const result = await this.diagnose(ended, evidence);
    return { ...result, contextPath: null };
  }

  /** Bridges of the context's namespace that the native backend captured (never promiscuous). */
  private bridgeWarnings(context: HostContext): string[] {
    if (this.options.backend.name !== 'native') return [];
    const here = this.options.targets.filter((t) => t.namespace?.path === this.primary?.path).map((t) => t.device);
    return bridgeCaptureWarnings(here, context);
  }

  /** Finish one window's analysis with its host context, bridges and kernel evidence. */
  private async diagnose(window: EndedWindow, evidence: KernelEvidence): Promise<Omit<LiveResult, 'contextPath'>> {
    for (const [i, d] of window.drops.entries()) window.sources[i]!.setDropped(d.stats === null ? null : d.stats.dropped + d.stats.ifDropped);
    const context: HostContext = { ...withSysctlsAtEnd(await window.context, window.kernel.sysctlsAtEnd), kernelEvidence: evidence };
    await yieldToEventLoop();
    const analysis = window.analysis.finish({
      context,
      bridges: bridgesFromContext(context, this.options.analyze.bridges ?? []),
      kernel: evidence,
    });
    analysis.warnings.unshift(...captureDropWarnings(window.drops, window.kernel.lostTraceEvents), ...this.filterWarnings, ...this.bridgeWarnings(context));
    return {
      analysis,
      context,
      interfaces: window.sources.map((s) => ({ name: s.interfaces[0]!.name!, packets: s.stats.packets, dropped: s.droppedByCapture() })),
    };
  }

  private newSources(): LiveSource[] {
    return this.options.targets.map((target, i) => new LiveSource(`live:${this.names[i]}`, this.names[i]!, this.handles[i]!.linkType, this.options.snaplen, this.options.filter, target.namespace?.path));
  }

  /** -c COUNT packets have been delivered: the rest of the poll is dropped and the capture stops. */
  private countReached(): boolean {
    const max = this.options.maxPackets ?? null;
    return max !== null && this.delivered >= max;
  }

  /** Close whatever is still open (also after an error); the trace instance first, whatever else fails. */
  release(): void {
    this.kernel.abort();
    for (const h of this.handles) h.close();
    this.closeWriter();
  }

  /** One packet to the counters, the written file and the analysis. */
  private deliver(i: number, rec: ReturnType<typeof newPacketRecord>, data: Buffer, offset: number, caplen: number, origLen: number, tsSec: number, tsNsec: number): void {
    if (this.countReached()) return;
    this.delivered++;
    this.sources[i]!.count(caplen, origLen);
    if (this.writer !== null || this.options.tap !== undefined) {
      const end = this.options.keepPayload === true ? offset + caplen : headerEnd(rec.linkType, data, offset, offset + caplen, this.cutScratch);
      const kept = data.subarray(offset, end);
      this.writer?.writePacket(i, kept, tsSec, tsNsec, origLen);
      this.options.tap?.(i, kept, tsSec, tsNsec, origLen);
    }
    rec.data = data;
    rec.offset = offset;
    rec.caplen = caplen;
    rec.origLen = origLen;
    rec.tsSec = tsSec;
    rec.tsNsec = tsNsec;
    this.analysis!.push(rec, i);
  }

  /**
   * Hand over the held packets of a several-interface capture in time order: those captured
   * before `before` (seconds since the epoch; Infinity: all). Each poll takes one handle's
   * batch after the other, so a short connection seen on a bridge and on the veth behind its
   * port (docker_gwbridge and ingress_sbox's eth1) would otherwise come whole from the first
   * handle before its copies from the second, and the tracker's copy check needs time order.
   */
  private mergeHeld(before: number): void {
    if (this.held.length === 0) return;
    const held = this.held;
    held.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec); // stable: one handle's order kept
    let n = 0;
    while (n < held.length && held[n]!.tsSec + held[n]!.tsNsec / 1e9 < before) n++;
    if (n === 0) return;
    this.held = held.slice(n);
    for (let k = 0; k < n; k++) {
      const p = held[k]!;
      this.deliver(p.i, this.records[p.i]!, p.data, 0, p.data.length, p.origLen, p.tsSec, p.tsNsec);
    }
  }

  /** Packets handed over by this round of polls. */
  private poll(): number {
    let packets = 0;
    const startedAt = Date.now() / 1000;
    for (const [i, h] of this.handles.entries()) {
      try {
        packets += h.poll();
      } catch (e) {
        throw captureFailure(this.names[i]!, e);
      }
    }
    // Every handle was polled after startedAt: what was captured HOLD_SECONDS before it is in.
    this.mergeHeld(startedAt - HOLD_SECONDS);
    const now = Date.now();
    if (this.writer !== null && now - this.flushedAt >= FLUSH_INTERVAL_MS) {
      this.writer.flush();
      this.flushedAt = now;
    }
    return packets;
  }

  private progress(): void {
    if (this.options.onProgress === undefined || this.analysis === null) return;
    this.options.onProgress({
      seconds: (Date.now() - this.started) / 1000,
      interfaces: this.sources.map((s) => ({ name: s.interfaces[0]!.name!, packets: s.stats.packets })),
      counts: this.analysis.counts,
    });
  }

  /**
   * FILE.context.json exists from the start, so a killed run still leaves one: first a
   * stub, then the collected context, and at the end the context with the window's
   * kernel evidence, each replacing the last whole.
   */
  private writeStartContext(pcapng: string): void {
    const file = contextPathFor(pcapng);
    const stub = emptyHostContext({
      capturedAt: new Date().toISOString(),
      hostname: os.hostname(),
      namespace: this.primary?.label ?? currentNamespaceLabel(),
      kernelRelease: os.release(),
      unavailable: [{ source: 'context', reason: 'written as the capture started, before the host context was collected' }, UNFINISHED],
    });
    writeHostContext(file, stub);
    this.contextPromise!.then(
      (context) => {
        try {
          if (!this.contextFinal) writeHostContext(file, { ...context, unavailable: [...context.unavailable, UNFINISHED] });
        } catch {
          // The final write reports a file that cannot be written.
        }
      },
      () => undefined,
    );
  }

  private closeWriter(): void {
    this.writer?.close();
    process.removeListener('exit', this.closeOnExit);
  }

  /** Each target's name, link type and description as a written file gives them; after open(). */
  interfaceDescriptions(): { name: string; linkType: number; description: string }[] {
    return this.options.targets.map((target, i) => ({
      name: this.names[i]!,
      linkType: this.handles[i]!.linkType,
      description: `${target.device} in network namespace ${target.namespace?.path ?? 'of synscope'}, captured by synscope live`,
    }));
  }

  private openWriter(path: string): PcapngWriter {
    const writer = new PcapngWriter(path === WRITE_TO_STDOUT ? FileSink.stdout() : new FileSink(path));
    for (const d of this.interfaceDescriptions()) writer.addInterface({ ...d, snaplen: this.options.snaplen, tsResolution: 'ns', filter: this.options.filter });
    writer.flush();
    this.flushedAt = Date.now();
    process.once('exit', this.closeOnExit);
    return writer;
  }
}

/**
 * Interfaces of the first target's namespace keep their names, which the rules compare
 * with bridges and routes of that namespace's context; the others are qualified with
 * their namespace ("eth0@ingress_sbox") so two eth0 never merge into one.
 */
export function interfaceName(target: LiveTarget, primary: ResolvedNamespace | null): string {
  if ((target.namespace?.path ?? null) === (primary?.path ?? null)) return target.device;
  return `${target.device}@${target.namespace?.label ?? 'host'}`;
}

/** A capture that broke while running, as one line that names the interface. */
function captureFailure(name: string, e: unknown): SynscopeError {
  if (e instanceof SynscopeError) return e;
  const err = e as Error & { code?: string };
  const why = /disappeared|no such device|ENODEV|ENXIO/i.test(`${err.code ?? ''} ${err.message}`) ? 'the interface was removed during the capture' : err.message.split('\n')[0];
  return new SynscopeError(ErrorCode.CAPTURE_UNAVAILABLE, `${name}: capture stopped: ${why}`);
}

/** What one window took of a run: its analysis, sources, kernel window, context and libpcap's counts. */
interface EndedWindow {
  analysis: StreamingAnalysis;
  sources: LiveSource[];
  kernel: KernelWindow;
  context: Promise<HostContext>;
  drops: InterfaceDrops[];
}

/** libpcap's counters since `start` (null: since the handle was opened). */
function windowStats(start: HandleStats | null, now: HandleStats | null): HandleStats | null {
  if (now === null || start === null) return now;
  return { received: now.received - start.received, dropped: now.dropped - start.dropped, ifDropped: now.ifDropped - start.ifDropped };
}

function distinctNamespaces(targets: readonly LiveTarget[]): (ResolvedNamespace | null)[] {
  const seen = new Map<string, ResolvedNamespace | null>();
  for (const t of targets) seen.set(t.namespace?.path ?? '', t.namespace);
  return [...seen.values()];
}

/**
 * "any" is named per packet by ifindex from the first target's namespace's snapshot, so
 * it is taken only there (ifindexes of another namespace would get that one's names).
 */
function checkDevice(target: LiveTarget, primary: ResolvedNamespace | null): void {
  if (target.device === ANY_DEVICE) {
    if ((target.namespace?.path ?? null) === (primary?.path ?? null)) return;
    throw new SynscopeError(ErrorCode.BAD_USAGE, `${ANY_DEVICE} is captured only in the first target's namespace (${primary?.label ?? 'synscope\'s own'}), not in ${target.namespace?.label ?? 'synscope\'s own'}: make it the first target, or name that namespace's interfaces`);
  }
  const existing = namespaceInterfaces();
  if (existing.length === 0 || existing.includes(target.device)) return;
  const where = target.namespace === null ? '' : ` in network namespace ${target.namespace.label}`;
  throw new SynscopeError(ErrorCode.UNKNOWN_DEVICE, `no interface named ${target.device}${where}; interfaces there: ${existing.join(', ')}`);
}

/** Without Linux cooked v2 (the cap backend gets v1 on "any"), packets would not say which interface they crossed. */
function checkAnyLinkType(target: LiveTarget, linkType: number, backend: string): void {
  if (target.device !== ANY_DEVICE || linkType === LinkType.LINUX_SLL2) return;
  throw new SynscopeError(ErrorCode.CAPTURE_UNAVAILABLE, `-i any needs Linux cooked v2 captures, which the ${backend} backend did not give (${linkTypeName(linkType)}); use --backend native (npm run build:native), or name the interfaces`);
}

const ANY_DEVICE = 'any';

/** "cap.pcapng" → "cap.context.json"; any other name gets ".context.json" appended. */
export function contextPathFor(pcapng: string): string {
  return pcapng.replace(/\.pcapng$/i, '') + '.context.json';
}

/** Lets a signal listener run between long synchronous steps (the native addon does not need it). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function nowParts(): { sec: number; nsec: number } {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}

/** A filter given with -f that would not keep the evidence (filter-evidence.ts); nothing for the default one. */
function filterWarnings(filter: string, handles: readonly LiveHandle[]): string[] {
  if (filter === DEFAULT_FILTER) return [];
  const load = loadNativeAddon();
  if ('reason' in load) return [];
  const linkTypes = [...new Set(handles.map((h) => h.linkType))];
  return linkTypes.flatMap((t) => filterEvidenceWarning(load.addon, filter, t) ?? []).slice(0, 1);
}
