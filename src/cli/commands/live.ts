import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import { atLeast, type Severity } from '../../diagnose/finding';
import type { BridgeSubnet } from '../../context/bridge';
import { DEFAULT_DOCKER_SOCKET } from '../../context/docker-api';
import { ErrorCode, SynscopeError } from '../../errors';
import { DEFAULT_BUFFER_BYTES, DEFAULT_FILTER, DEFAULT_SNAPLEN } from '../../live/capture-defaults';
import { chooseBackend, type BackendChoice } from '../../live/choose-backend';
import { parseDuration } from '../../live/duration';
import { runLiveCapture, targetName, WRITE_TO_STDOUT, type LiveTarget } from '../../live/live-capture';
import { checkLivePrivileges } from '../../live/privileges';
import { exitOnSecondSignal } from '../../live/second-signal';
import { resolveNamespaceSpec } from '../../netns/namespace-spec';
import { formatWarnings, reportFormat, writeReport, type ReportFormat, type ReportOutput } from '../report-format';
import { addReportFlags } from '../analyze-options';
import type { CliIo } from '../io';
import { LiveProgressLine } from '../live-progress';

const EXAMPLES = `
Examples:
  $ sudo synscope live -i docker_gwbridge -i eth0 --duration 30s
  $ sudo synscope live -i eth0 --netns ingress_sbox:eth0 --duration 1m --json
  $ sudo synscope live -i docker_gwbridge --write incident.pcapng   # Ctrl-C stops and reports
  $ synscope analyze incident.pcapng --context incident.context.json   # the same findings, later
  $ sudo synscope live --netns /var/run/docker/netns/ingress_sbox:eth1 --netns 4242:eth0 --duration 20s
  $ sudo synscope live -i eth0 -c 1000 -q --format ndjson | jq -c 'select(.type == "finding")'
  $ sudo synscope live -i eth0 -c 100 -w - | tshark -r -   # pcapng on stdout, the report on stderr

A namespace is a name under /run/netns, a path (/var/run/docker/netns/ingress_sbox) or a
container's PID. By default synscope keeps TCP, ICMP, ICMPv6, ARP and VXLAN (UDP 4789)
packets, ${DEFAULT_SNAPLEN} bytes of each; --write cuts each packet after its last header
(--keep-payload keeps what was captured). Without --duration it runs until
Ctrl-C or SIGTERM, then prints the report. Kernel counters are read before and after in
every namespace involved; as root, kernel drop reasons are traced during the capture.

Exit codes: 0 capture and analysis ran, 1 a finding at or above --fail-on, 2 bad usage, an
unknown interface or namespace, or capture not possible here.`;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The capture flags live and watch share. */
export interface CaptureFlags {
  quiet?: boolean;
  filter: string;
  snaplen: number;
  bufferSize: number;
  backend: BackendChoice;
  trace: boolean;
  dockerSocket: string;
}

interface LiveFlags extends CaptureFlags {
  json?: boolean;
  count?: number;
  format?: ReportFormat;
  allFlows?: boolean;
  bridge: BridgeSubnet[];
  failOn?: Severity;
  duration?: string;
  write?: string;
  report?: string;
  keepPayload?: boolean;
}

/** A target as typed: `-i eth0` or `--netns ns:eth0`, in command-line order. */
export interface TargetArg {
  device: string;
  namespace: string | null;
}

export function liveCommand(io: CliIo, setExit: (code: number) => void): Command {
  let targetArgs: TargetArg[] = [];
  const command = addReportFlags(
    new Command('live')
      .description('capture on live interfaces (also inside other network namespaces) and explain the handshakes that fail')
      .option('-i, --interface <IFACE>', 'interface to capture on (repeatable)', (v: string) => void targetArgs.push({ device: v, namespace: null }))
      .option('--netns <NS:IFACE>', 'an interface inside another network namespace (repeatable)', (v: string) => void targetArgs.push(parseNetnsArg(v)))
      .option('--duration <TIME>', 'stop after this long (30s, 2m, 500ms); default: until Ctrl-C or SIGTERM')
      .option('-c, --count <N>', 'stop after N packets, as tcpdump -c', parseCount)
      .option('-q, --quiet', 'no progress or "capturing on" lines on stderr (warnings and errors still)')
      .option('-w, --write <FILE.pcapng>', 'also write the packets as pcapng (headers only, original lengths kept), and the host context beside it as FILE.context.json; - writes the pcapng to standard output (the report then goes to stderr, or to --report)')
      .option('--report <FILE>', 'write the report to FILE instead of standard output')
      .option('--keep-payload', 'write packets to --write as captured, payload included (up to --snaplen)')
      .option('-f, --filter <BPF>', 'libpcap filter of what to keep (as tcpdump takes it; keep "or icmp or icmp6 or arp" in it for the evidence)', DEFAULT_FILTER)
      .option('--snaplen <N>', 'bytes kept of each packet', parseSnaplen, DEFAULT_SNAPLEN)
      .option('-B, --buffer-size <KiB>', `the kernel's capture ring per interface, in KiB as tcpdump -B takes it (memory outside synscope's own: a bigger ring rides out longer bursts)`, parseBufferSize, DEFAULT_BUFFER_BYTES / 1024)
      .addOption(new Option('--backend <NAME>', 'capture engine: native (batched, the project addon) or cap (npm binding)').choices(['auto', 'native', 'cap']).default('auto'))
      .option('--no-trace', 'do not trace kernel drop reasons through tracefs')
      .option('--docker-socket <PATH>', 'Docker Engine API socket for the host context', DEFAULT_DOCKER_SOCKET),
  )
    .addHelpText('after', EXAMPLES)
    .action(async (flags: LiveFlags) => {
      const args = targetArgs;
      targetArgs = [];
      if (args.length === 0) throw new SynscopeError(ErrorCode.BAD_USAGE, 'live needs at least one -i IFACE or --netns NS:IFACE');
      const durationMs = flags.duration === undefined ? null : parseDuration(flags.duration);
      const format = reportFormat(flags);
      const targets: LiveTarget[] = args.map((a) => ({ device: a.device, namespace: a.namespace === null ? null : resolveNamespaceSpec(a.namespace) }));
      checkLivePrivileges(targets.some((t) => t.namespace !== null));
      const backend = chooseBackend(flags.backend);

      const stop = new AbortController();
      const onSignal = () => {
        if (stop.signal.aborted) process.exit(130);
        stop.abort();
      };
      // SIGHUP too: a dropped SSH session must still remove the trace instance and flush --write.
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      const restoreSignals = exitOnSecondSignal(STOP_SIGNALS);
      const progress = new LiveProgressLine(io);
      try {
        const names = targets.map(targetName);
        const result = await runLiveCapture(
          {
            targets,
            backend,
            filter: flags.filter,
            snaplen: flags.snaplen,
            bufferBytes: flags.bufferSize * 1024,
            durationMs,
            maxPackets: flags.count ?? null,
            write: flags.write ?? null,
            keepPayload: flags.keepPayload === true,
            analyze: { bridges: flags.bridge, allFlows: flags.allFlows === true },
            trace: flags.trace,
            dockerSocket: flags.dockerSocket,
            onProgress: (p) => {
              if (flags.quiet !== true) progress.update(p);
            },
            onCapturing: () => {
              if (flags.quiet === true) return;
              io.stderr(`synscope: capturing on ${names.join(', ')} (${backend.name})${durationMs === null ? '; Ctrl-C stops and reports' : ` for ${flags.duration}`}\n`);
            },
          },
          stop.signal,
        );
        progress.clear();
        const analysis = result.analysis;
        writeReport(analysis, format, reportOutput(flags, io));
        for (const w of [...analysis.warnings, ...formatWarnings(analysis, format)]) io.stderr(`synscope: warning: ${w}\n`);
        if (flags.write === WRITE_TO_STDOUT) {
          if (flags.quiet !== true) io.stderr(`synscope: wrote ${analysis.summary.packets} packets as pcapng to standard output (no context file: run synscope context > host.json for one)\n`);
        } else if (flags.write !== undefined) {
          io.stderr(`synscope: wrote ${flags.write} (${analysis.summary.packets} packets) and ${result.contextPath}\n`);
        }
        const failOn = flags.failOn;
        setExit(failOn !== undefined && analysis.findings.some((f) => atLeast(f.severity, failOn)) ? 1 : 0);
      } finally {
        progress.clear();
        restoreSignals();
        for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      }
    });
  return command;
}

/** The report's place: --report FILE, else stderr when -w - holds stdout, else stdout. */
function reportOutput(flags: LiveFlags, io: CliIo): ReportOutput {
  if (flags.report !== undefined) {
    const file = flags.report;
    let fd: number;
    try {
      fd = fs.openSync(file, 'w');
    } catch (e) {
      throw new SynscopeError(ErrorCode.WRITE_FAILED, `cannot create the report: ${(e as Error).message}`, { file });
    }
    // Written whole before the process goes on; the descriptor closes with the process.
    return { write: (chunk) => void fs.writeSync(fd, chunk) };
  }
  if (flags.write === WRITE_TO_STDOUT) return { write: io.stderr, terminal: io.stderrTerminal };
  return { write: io.stdout, terminal: io.stdoutTerminal };
}

export function parseNetnsArg(value: string): TargetArg {
  const colon = value.lastIndexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `--netns ${JSON.stringify(value)}: expected NS:IFACE, e.g. ingress_sbox:eth0 or 4242:eth0`);
  }
  return { namespace: value.slice(0, colon), device: value.slice(colon + 1) };
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new SynscopeError(ErrorCode.BAD_USAGE, `-c ${value}: expected a whole number of packets, 1 or more`);
  return n;
}

const MIN_BUFFER_KIB = 256;
const MAX_BUFFER_KIB = 2 * 1024 * 1024;

export function parseBufferSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < MIN_BUFFER_KIB || n > MAX_BUFFER_KIB) {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `-B ${value}: expected a whole number of KiB from ${MIN_BUFFER_KIB} to ${MAX_BUFFER_KIB} (2 GiB)`);
  }
  return n;
}

export function parseSnaplen(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 64 || n > 262144) throw new SynscopeError(ErrorCode.BAD_USAGE, `--snaplen ${value}: expected a whole number of bytes from 64 to 262144`);
  return n;
}
