import * as fs from 'node:fs';
import * as os from 'node:os';
import { Command, Option } from 'commander';
import { DEFAULT_DOCKER_SOCKET } from '../../context/docker-api';
import { ErrorCode, SynscopeError } from '../../errors';
import { DEFAULT_FILTER, DEFAULT_SNAPLEN } from '../../live/capture-defaults';
import { chooseBackend } from '../../live/choose-backend';
import { parseDuration } from '../../live/duration';
import { interfaceName, targetName } from '../../live/live-capture';
import { checkLivePrivileges } from '../../live/privileges';
import { kernelAvailabilityText } from '../../evidence/kernel-availability';
import { exitOnSecondSignal } from '../../live/second-signal';
import { resolveNamespaceSpec } from '../../netns/namespace-spec';
import { discoverWatchTargets, DOCKER_INGRESS_SANDBOX, type DiscoveredTarget, type DiscoveryOptions } from '../../watch/default-targets';
import { CaptureRing } from '../../watch/capture-ring';
import { WatchMetrics } from '../../watch/metrics';
import { parseMetricsAddress, serveMetrics } from '../../watch/metrics-server';
import { targetChangeText } from '../../watch/target-changes';
import { runWatch } from '../../watch/watch-run';
import type { CliIo } from '../io';
import { parseBufferSize, parseNetnsArg, parseSnaplen, type CaptureFlags, type TargetArg } from './live';

const EXAMPLES = `
Examples:
  $ sudo synscope watch -i eth0 -i docker_gwbridge --metrics 127.0.0.1:9464
  $ sudo synscope watch -i docker0 --netns ingress_sbox:eth0 --window 30s --events /var/log/synscope.ndjson
  $ sudo synscope watch -i eth0 | jq -c 'select(.type == "finding-opened")'
  $ sudo synscope watch --metrics :9464 --write /var/lib/synscope --ring 20 --ring-size 50

With no -i or --netns, watch finds its interfaces itself: the uplinks (the interfaces of the
default routes), every bridge the Docker Engine API reports (docker0, docker_gwbridge, br-*)
and the interfaces of Docker's ingress sandbox when it exists; it looks again at every
window's end and moves to the interfaces it finds (a "targets" event and a line on stderr).

Each window (--window, default 60s) is analyzed as synscope live would analyze a capture of
that long; the capture itself never stops between windows. A finding is one (node, code,
subject: the service, else the bridge or interface, else the client subnet it is about).
Events, one JSON line each (schema synscope.events/1): finding-opened when it first fails,
finding-ongoing in each later window it fails in, finding-resolved after --resolve-after
windows in a row in which its service completed handshakes and none failed; a window
without attempts to it changes nothing. A kernel-evidence event (and a line on stderr)
says which kernel evidence the windows collect (tracefs: drop reasons; counters) and why
not, at the start and whenever that changes. --metrics serves Prometheus' text format at
/metrics. Ctrl-C or SIGTERM analyzes the last window and stops.

Exit codes: 0 stopped by a signal, 2 bad usage, an unknown interface or namespace, or
capture not possible here.`;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Kernel ring per interface: watch may run on many bridges at once, for hours, so less than live's. */
const WATCH_BUFFER_KIB = 4 * 1024;
const DEFAULT_RESOLVE_AFTER = 3;
/** dumpcap -b files / filesize defaults are up to the user; these keep a day of a quiet node's headers in 1 GB. */
const DEFAULT_RING_FILES = 10;
const DEFAULT_RING_MB = 100;
/** A window shorter than this would spend more time diagnosing than capturing. */
const MIN_WINDOW_MS = 1000;

interface WatchFlags extends CaptureFlags {
  window: string;
  events?: string;
  metrics?: string;
  resolveAfter: number;
  ingressSandbox: string;
  write?: string;
  ring?: number;
  ringSize?: number;
}

export function watchCommand(io: CliIo, setExit: (code: number) => void): Command {
  let targetArgs: TargetArg[] = [];
  return new Command('watch')
    .description('capture continuously, analyze in rolling windows, and report findings as they open, go on and resolve (NDJSON events, Prometheus metrics)')
    .option('-i, --interface <IFACE>', 'interface to capture on (repeatable)', (v: string) => void targetArgs.push({ device: v, namespace: null }))
    .option('--netns <NS:IFACE>', 'an interface inside another network namespace (repeatable)', (v: string) => void targetArgs.push(parseNetnsArg(v)))
    .option('--window <TIME>', 'length of an analysis window (30s, 5m)', '60s')
    .option('--events <FILE>', 'append the events to FILE instead of standard output')
    .option('--metrics <ADDR:PORT>', 'serve Prometheus metrics at http://ADDR:PORT/metrics (127.0.0.1:9464, [::1]:9464, :9464)')
    .option('--resolve-after <N>', 'healthy windows in a row that resolve a finding', parseResolveAfter, DEFAULT_RESOLVE_AFTER)
    .option('-q, --quiet', 'no "capturing on" line on stderr (warnings and errors still)')
    .option('-f, --filter <BPF>', 'libpcap filter of what to keep (keep "or icmp or icmp6 or arp" in it for the evidence)', DEFAULT_FILTER)
    .option('--snaplen <N>', 'bytes kept of each packet', parseSnaplen, DEFAULT_SNAPLEN)
    .option('-B, --buffer-size <KiB>', "the kernel's capture ring per interface, in KiB", parseBufferSize, WATCH_BUFFER_KIB)
    .addOption(new Option('--backend <NAME>', 'capture engine: native (batched, the project addon) or cap (npm binding)').choices(['auto', 'native', 'cap']).default('auto'))
    .option('--no-trace', 'do not trace kernel drop reasons through tracefs')
    .option('-w, --write <DIR>', 'also write the packets, headers only, to a ring of pcapng files in DIR (each with FILE.context.json)')
    .option('--ring <N>', `pcapng files kept in the ring (default ${DEFAULT_RING_FILES})`, (v: string) => parseWhole(v, '--ring', 2, 100_000))
    .option('--ring-size <MB>', `size at which a ring file is closed and the next begun (default ${DEFAULT_RING_MB})`, (v: string) => parseWhole(v, '--ring-size', 1, 100_000))
    .option('--docker-socket <PATH>', 'Docker Engine API socket for the host context and the bridges to watch', DEFAULT_DOCKER_SOCKET)
    .option('--ingress-sandbox <PATH>', "Docker's ingress sandbox namespace, watched when no interface is given and it exists", DOCKER_INGRESS_SANDBOX)
    .addHelpText('after', EXAMPLES)
    .action(async (flags: WatchFlags) => {
      const args = targetArgs;
      targetArgs = [];
      const windowMs = parseDuration(flags.window);
      if (windowMs < MIN_WINDOW_MS) throw new SynscopeError(ErrorCode.BAD_USAGE, `--window ${flags.window}: expected at least 1s`);
      const metricsAddress = flags.metrics === undefined ? null : parseMetricsAddress(flags.metrics);
      if (flags.write === undefined && (flags.ring !== undefined || flags.ringSize !== undefined)) throw new SynscopeError(ErrorCode.BAD_USAGE, '--ring and --ring-size need --write DIR');
      const discovery: DiscoveryOptions = { dockerSocket: flags.dockerSocket, ingressSandbox: flags.ingressSandbox };
      const noted = new Set<string>();
      /** Each note of discovery once: the same missing daemon would be said every window. */
      const discover = async (): Promise<DiscoveredTarget[]> => {
        const found = await discoverWatchTargets(discovery);
        for (const note of found.notes) {
          if (noted.has(note)) continue;
          noted.add(note);
          io.stderr(`synscope: note: ${note}\n`);
        }
        return found.targets;
      };
      const given = args.length > 0;
      const targets: DiscoveredTarget[] = given
        ? args.map((a) => ({ device: a.device, namespace: a.namespace === null ? null : resolveNamespaceSpec(a.namespace), role: 'given' }))
        : await discover();
      if (targets.length === 0) throw new SynscopeError(ErrorCode.BAD_USAGE, 'watch found nothing to capture on (no default route, no Docker bridge, no ingress sandbox): give -i IFACE or --netns NS:IFACE');
      checkLivePrivileges(targets.some((t) => t.namespace !== null));
      const backend = chooseBackend(flags.backend);
      const names = targets.map((t) => `${targetName(t)}${given ? '' : ` [${t.role}]`}`);
      const emit = flags.events === undefined ? io.stdout : appendTo(flags.events);
      const ring = flags.write === undefined ? null : openRing(flags.write, flags.ring ?? DEFAULT_RING_FILES, (flags.ringSize ?? DEFAULT_RING_MB) * 1e6);
      const ringText = ring === null ? '' : `; writing ${flags.ring ?? DEFAULT_RING_FILES} files of ${flags.ringSize ?? DEFAULT_RING_MB} MB in ${flags.write}`;

      const stop = new AbortController();
      const onSignal = () => stop.abort();
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      const restoreSignals = exitOnSecondSignal(STOP_SIGNALS);
      let server: Awaited<ReturnType<typeof serveMetrics>> | null = null;
      try {
        const metrics = metricsAddress === null ? null : new WatchMetrics(targets.map((t) => interfaceName(t, targets[0]!.namespace)));
        if (metrics !== null) server = await serveMetrics(metricsAddress!, () => metrics.exposition());
        const served = server === null ? '' : `; metrics at http://${server.address.family === 'IPv6' ? `[${server.address.address}]` : server.address.address}:${server.address.port}/metrics`;
        await runWatch(
          {
            targets,
            rediscover: given ? null : discover,
            ring,
            onTargetsChanged: (change) => io.stderr(`synscope: ${targetChangeText(change)}\n`),
            onKernelEvidence: (now) => io.stderr(`synscope: ${kernelAvailabilityText(now)}\n`),
            capture: {
              backend,
              filter: flags.filter,
              snaplen: flags.snaplen,
              bufferBytes: flags.bufferSize * 1024,
              analyze: {},
              trace: flags.trace,
              dockerSocket: flags.dockerSocket,
              onCapturing: () => {
                if (flags.quiet !== true) io.stderr(`synscope: capturing on ${names.join(', ')} (${backend.name}), windows of ${flags.window}${served}${ringText}; Ctrl-C stops\n`);
              },
            },
            windowMs,
            resolveAfter: flags.resolveAfter,
            node: os.hostname(),
            emit,
            metrics,
            warn: (w) => io.stderr(`synscope: warning: ${w}\n`),
          },
          stop.signal,
        );
        setExit(0);
      } finally {
        await server?.close();
        ring?.close();
        restoreSignals();
        for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      }
    });
}

/** Each event written whole to FILE, opened for appending (a restarted watch adds to the same log). */
function appendTo(file: string): (line: string) => void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'a');
  } catch (e) {
    throw new SynscopeError(ErrorCode.WRITE_FAILED, `cannot open the events file: ${(e as Error).message}`, { file });
  }
  return (line) => void fs.writeSync(fd, line);
}

function parseResolveAfter(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new SynscopeError(ErrorCode.BAD_USAGE, `--resolve-after ${value}: expected a whole number of windows from 1 to 1000`);
  return n;
}

function openRing(dir: string, files: number, bytesPerFile: number): CaptureRing {
  try {
    return new CaptureRing({ dir, files, bytesPerFile, prefix: `synscope-${os.hostname()}` });
  } catch (e) {
    throw new SynscopeError(ErrorCode.WRITE_FAILED, `cannot use ${dir} for the capture ring: ${(e as Error).message}`, { file: dir });
  }
}

function parseWhole(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new SynscopeError(ErrorCode.BAD_USAGE, `${flag} ${value}: expected a whole number from ${min} to ${max}`);
  return n;
}
