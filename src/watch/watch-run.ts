import type { AnalyzeOptions } from '../analysis';
import { LiveRun, type LiveCaptureOptions, type LiveResult } from '../live/live-capture';
import { eventLine } from '../report/ndjson';
import { FindingLifecycle } from './finding-lifecycle';
import type { WatchMetrics } from './metrics';
import { ServiceCompletions } from './service-completions';
import { settledFindings } from './settled-findings';
import type { WatchWindow } from './watch-window';

export interface WatchOptions {
  /** The capture, as live takes it; watch runs it until stopped and writes no file. */
  capture: Omit<LiveCaptureOptions, 'durationMs' | 'maxPackets' | 'write' | 'keepPayload' | 'onProgress'>;
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
 * window is analyzed as well when stopped. Resolves to the number of windows analyzed.
 */
export async function runWatch(options: WatchOptions, stop: AbortSignal): Promise<number> {
  const lifecycle = new FindingLifecycle(options.node, options.resolveAfter);
  const warned = new Set<string>();
  let completions = new ServiceCompletions();
  const analyzeFor = (c: ServiceCompletions): AnalyzeOptions => ({ ...options.capture.analyze, allFlows: true, onFlow: c.onFlow });
  const run = new LiveRun({ ...options.capture, durationMs: null, maxPackets: null, write: null, analyze: analyzeFor(completions) });
  let index = 0;
  let windowStart = Date.now() / 1000;

  const conclude = (result: LiveResult, window: WatchWindow, windowCompletions: ServiceCompletions, startedAt: number) => {
    const { analysis } = result;
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
  try {
    run.open();
    options.capture.onCapturing?.();
    // Windows are concluded in order, one after the other, while the capture goes on.
    let concluded = Promise.resolve();
    const rotate = () => {
      const next = endWindow((analyze) => run.rotate(analyze));
      concluded = concluded.then(next).catch((e: unknown) => {
        failure ??= e;
        failed.abort();
      });
    };
    const timer = setInterval(rotate, options.windowMs);
    try {
      await run.capture(AbortSignal.any([stop, failed.signal]));
    } finally {
      clearInterval(timer);
    }
    await concluded;
    if (failure !== null) throw failure;
    await endWindow(() => run.finish())();
    return index;
  } finally {
    run.release();
  }
}
