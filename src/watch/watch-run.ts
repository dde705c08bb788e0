import type { AnalyzeOptions } from '../analysis';
import { LiveRun, type LiveCaptureOptions, type LiveResult } from '../live/live-capture';
import { eventLine } from '../report/ndjson';
import type { CaptureRing, RingInterface } from './capture-ring';
import type { DiscoveredTarget } from './default-targets';
import type { KernelAvailability } from '../evidence/kernel-availability';
import { FindingLifecycle } from './finding-lifecycle';
import { KernelAvailabilityLog } from './kernel-availability-log';
import type { WatchMetrics } from './metrics';
import { ServiceCompletions } from './service-completions';
import { settledFindings } from './settled-findings';
import { targetChange, targetsEventBody, type TargetChange } from './target-changes';
import type { WatchWindow } from './watch-window';

export interface WatchOptions {
  /** The capture, as live takes it; watch runs it until stopped and writes no file. */
  capture: Omit<LiveCaptureOptions, 'targets' | 'durationMs' | 'maxPackets' | 'write' | 'keepPayload' | 'onProgress' | 'tap'>;
  /** Where every packet is also written, headers only (--write DIR --ring N); each window's host context goes beside its files. */
  ring: CaptureRing | null;
  /** The interfaces to capture on at the start. */
  targets: readonly DiscoveredTarget[];
  /**
   * Finds the interfaces again at each window's end (watch given no interface); null keeps
   * `targets` for the whole run. An empty answer keeps the current ones.
   */
  rediscover: (() => Promise<DiscoveredTarget[]>) | null;
  /** Told when the kernel evidence a window can collect differs from the last window's (and at the start). */
  onKernelEvidence?: (now: readonly KernelAvailability[]) => void;
  /** Told of each change rediscover brought, as capture moves to the new interfaces. */
  onTargetsChanged?: (change: TargetChange) => void;
  windowMs: number;
  /** Healthy windows in a row that resolve a finding. */
  resolveAfter: number;
  /** The node name events carry (os.hostname()). */
  node: string;
  /** Receives each event, one NDJSON line. */
  emit: (line: string) => void;
  metrics: WatchMetrics | null;
  /** Each distinct warning of the windows' analyses, once. */
  warn: (warning: string) => void;
}

/** Distinct warnings remembered, so one that every window repeats is said once. */
const MAX_WARNINGS_REMEMBERED = 256;

/**
 * Capture until `stop` aborts, analyzing in windows of `windowMs`: at each boundary the
 * run hands later packets to a new analysis while the ended one is diagnosed, and the
 * window's findings go through the lifecycle to events and metrics. The last, shorter
 * window is analyzed as well when stopped. When rediscovery finds other interfaces, the
 * window ends with the capture on the old ones and the next opens on the new ones (the
 * milliseconds between are not captured), with a `targets` event. Resolves to the number
 * of windows analyzed.
 */
export async function runWatch(options: WatchOptions, stop: AbortSignal): Promise<number> {
  const lifecycle = new FindingLifecycle(options.node, options.resolveAfter);
  const warned = new Set<string>();
  const kernelLog = new KernelAvailabilityLog();
  /** A `kernel-evidence` event when the window just begun collects other kernel evidence than the last one did (tracefs denied, counters unreadable). */
  const reportKernel = (run: LiveRun) => {
    const now = run.kernelAvailability();
    options.metrics?.setKernelAvailability(now);
    const body = kernelLog.observe(options.node, index, now);
    if (body === null) return;
    options.emit(eventLine('kernel-evidence', body));
    options.onKernelEvidence?.(now);
  };
  let completions = new ServiceCompletions();
  const analyzeFor = (c: ServiceCompletions): AnalyzeOptions => ({ ...options.capture.analyze, allFlows: true, onFlow: c.onFlow });
  let index = 0;
  let windowStart = Date.now() / 1000;

  const conclude = (result: LiveResult, window: WatchWindow, windowCompletions: ServiceCompletions, startedAt: number) => {
    const { analysis } = result;
    options.ring?.setContext(result.context);
    const findings = settledFindings(analysis.findings, analysis.flows, window.end);
    const events = lifecycle.observe({ window, findings, completedByService: windowCompletions.byService, completed: analysis.summary.handshakes.completed });
    for (const e of events) options.emit(eventLine(e.type, e.body));
    for (const w of analysis.warnings) {
      if (warned.has(w)) continue;
      if (warned.size < MAX_WARNINGS_REMEMBERED) warned.add(w);
      options.warn(w);
    }
    options.metrics?.addWindow({
      interfaces: result.interfaces,
      handshakes: analysis.summary.handshakes,
      openFindings: lifecycle.openFindings(),
      analysisSeconds: (Date.now() - startedAt) / 1000,
      untrackedFindings: lifecycle.untracked,
    });
  };
  /** Ends the current window: returns what concludes it once its analysis is done. */
  const endWindow = (finish: (next: AnalyzeOptions) => Promise<LiveResult>) => {
    const now = Date.now() / 1000;
    const window: WatchWindow = { index: index++, start: windowStart, end: now };
    windowStart = now;
    const ended = completions;
    completions = new ServiceCompletions();
    const startedAt = Date.now();
    const result = finish(analyzeFor(completions));
    return async () => conclude(await result, window, ended, startedAt);
  };

  // A window that cannot be concluded (an events file that cannot be written) stops the capture.
  const failed = new AbortController();
  let failure: unknown = null;
  const stopped = AbortSignal.any([stop, failed.signal]);

  /** The current interfaces again, or none (the current ones stay) when discovery is off or failed. */
  const rediscover = async (): Promise<DiscoveredTarget[]> => {
    if (options.rediscover === null) return [];
    return options.rediscover().catch((e: unknown) => {
      options.warn(`finding the interfaces again: ${(e as Error).message}`);
      return [];
    });
  };

  /** The capture on one set of interfaces, until stopped (null) or rediscovery finds another set (returned). */
  const captureOn = async (targets: readonly DiscoveredTarget[], first: boolean): Promise<DiscoveredTarget[] | null> => {
    let ringInterfaces: RingInterface[] = [];
    const ring = options.ring;
    const tap = ring === null ? undefined : (i: number, bytes: Uint8Array, tsSec: number, tsNsec: number, origLen: number) => ring.write(ringInterfaces[i]!, bytes, tsSec, tsNsec, origLen);
    const run = new LiveRun({ ...options.capture, targets, durationMs: null, maxPackets: null, write: null, analyze: analyzeFor(completions), tap });
    const changed = new AbortController();
    let captureOver = false;
    let found: DiscoveredTarget[] | null = null;
    const differs = (again: DiscoveredTarget[]) => again.length > 0 && targetChange(targets, again) !== null;
    try {
      run.open();
      ringInterfaces = run.interfaceDescriptions().map((d) => ({ ...d, snaplen: options.capture.snaplen }));
      if (first) options.capture.onCapturing?.();
      reportKernel(run);
      // Windows are concluded in order, one after the other, while the capture goes on.
      let concluded = Promise.resolve();
      let ticking = false;
      const tick = async () => {
        if (ticking) return;
        ticking = true;
        try {
          const again = await rediscover();
          if (stopped.aborted || captureOver) return;
          if (differs(again)) {
            found = again;
            changed.abort();
            return;
          }
          const next = endWindow((analyze) => run.rotate(analyze));
          reportKernel(run);
          concluded = concluded.then(next).catch((e: unknown) => {
            failure ??= e;
            failed.abort();
          });
        } finally {
          ticking = false;
        }
      };
      const timer = setInterval(() => void tick(), options.windowMs);
      let broken: unknown = null;
      try {
        await run.capture(AbortSignal.any([stopped, changed.signal]));
      } catch (e) {
        // An interface that went away (a Docker network removed) is a change of targets when watch finds its own.
        if (options.rediscover === null) throw e;
        broken = e;
      } finally {
        captureOver = true;
        clearInterval(timer);
      }
      await concluded;
      if (failure !== null) throw failure;
      if (broken !== null) {
        const again = await rediscover();
        if (!differs(again)) throw broken;
        found = again;
        options.warn(`${(broken as Error).message}; capture goes on with the interfaces there are now`);
      }
      try {
        await endWindow(() => run.finish())();
      } catch (e) {
        if (broken === null) throw e;
        options.warn(`the window that ended there is not analyzed: ${(e as Error).message}`);
      }
      return stop.aborted ? null : found;
    } finally {
      run.release();
    }
  };

  let targets = options.targets;
  for (let first = true; ; first = false) {
    const next = await captureOn(targets, first);
    if (next === null) return index;
    const change = targetChange(targets, next)!;
    targets = next;
    options.emit(eventLine('targets', targetsEventBody(options.node, change, index)));
    options.onTargetsChanged?.(change);
  }
}
