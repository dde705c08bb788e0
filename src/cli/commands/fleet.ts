import * as os from 'node:os';
import { Command, Option } from 'commander';
import { bridgesFromContext } from '../../context/context-bridges';
import { DEFAULT_DOCKER_SOCKET } from '../../context/docker-api';
import { atLeast, SEVERITIES, type Severity } from '../../diagnose/finding';
import { ErrorCode, SynscopeError } from '../../errors';
import { nodeEventLines } from '../../fleet/node-events';
import { NodeFlowSample } from '../../fleet/node-flow-sample';
import { runFleet } from '../../fleet/run-fleet';
import { hostAnalysis } from '../../hosts/analyze-hosts';
import { DEFAULT_BUFFER_BYTES, DEFAULT_FILTER, DEFAULT_SNAPLEN } from '../../live/capture-defaults';
import { chooseBackend } from '../../live/choose-backend';
import { parseDuration } from '../../live/duration';
import { runLiveCapture, targetName } from '../../live/live-capture';
import { collectNamespaceContext } from '../../live/namespace-context';
import { checkLivePrivileges } from '../../live/privileges';
import { resolveNamespaceSpec } from '../../netns/namespace-spec';
import { discoverWatchTargets, DOCKER_INGRESS_SANDBOX } from '../../watch/default-targets';
import type { CliIo } from '../io';
import { REPORT_FORMATS, reportFormat, writeReport, type ReportFormat } from '../report-format';
import { parseNetnsArg, type TargetArg } from './live';

/** The image deploy/synscope-stack.yml deploys unless told otherwise. */
export const DEFAULT_FLEET_IMAGE = 'synscope:0.1.0';
const DEFAULT_NETNS_DIR = '/var/run/docker/netns';
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const EXAMPLES = `
Examples:
  $ sudo synscope fleet --duration 20s
  $ sudo synscope fleet --duration 30s --json > fleet.json
  $ sudo synscope fleet -i eth0 -i docker0 --image registry.example/synscope:0.1.0
  $ sudo synscope fleet --constraint node.role==worker --format markdown

Run on a swarm manager. fleet creates a global job (one task on every node, run once) of
the synscope image: host network, every capability dropped but NET_RAW and SYS_ADMIN, the
node's Docker socket and sandboxes' directory read-only. Each task captures for --duration
on the interfaces watch would find (uplinks, Docker bridges, ingress_sbox) or those given
with -i/--netns, and prints its evidence as synscope.events/1 lines (chunked under Docker's
16 KiB log line). fleet reads them from the service's logs, joins the nodes as
analyze --host does (cross-host rules, capture clock offsets), prints one report with the
nodes that did not answer and why, and removes the service, also on Ctrl-C or SIGTERM.
No ssh, no shared filesystem: only the Engine API socket.

Exit codes: 0 the report was printed, 1 a finding at or above --fail-on, 2 bad usage or
no swarm manager at --docker-socket, 130 stopped by a signal (the service removed).`;

interface FleetFlags {
  duration: string;
  image: string;
  dockerSocket: string;
  nodeDockerSocket: string;
  nodeNetnsDir: string;
  constraint: string[];
  timeout: string;
  json?: boolean;
  format?: ReportFormat;
  failOn?: Severity;
  quiet?: boolean;
}

export function fleetCommand(io: CliIo, setExit: (code: number) => void): Command {
  let targetArgs: TargetArg[] = [];
  return new Command('fleet')
    .description('run one bounded capture on every node of a Docker swarm (a global job, through the Engine API) and print one multi-host report')
    .option('--duration <TIME>', 'how long each node captures', '20s')
    .option('-i, --interface <IFACE>', 'interface each node captures on (repeatable); default: what watch finds', (v: string) => void targetArgs.push({ device: v, namespace: null }))
    .option('--netns <NS:IFACE>', 'an interface inside another namespace of each node (repeatable)', (v: string) => void targetArgs.push(parseNetnsArg(v)))
    .option('--image <IMAGE>', 'the synscope image the nodes run (it must be on every node or pullable there)', DEFAULT_FLEET_IMAGE)
    .option('--docker-socket <PATH>', "the manager's Docker Engine API socket", DEFAULT_DOCKER_SOCKET)
    .option('--node-docker-socket <PATH>', 'where each node keeps its Docker socket (bound read-only into its task)', DEFAULT_DOCKER_SOCKET)
    .option('--node-netns-dir <PATH>', "where each node's dockerd keeps its sandboxes' namespaces (bound read-only, rslave)", DEFAULT_NETNS_DIR)
    .option('--constraint <EXPR>', 'placement constraint of the job, as docker service create takes it (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--timeout <TIME>', 'how long past --duration to wait for every node before reporting the missing ones', '60s')
    .option('-q, --quiet', 'no progress lines on stderr')
    .option('--json', 'print the synscope.report/2 JSON document (= --format json)')
    .addOption(new Option('--format <format>', 'text, json, ndjson, markdown, conn or html, as analyze').choices(REPORT_FORMATS))
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding at or above this severity exists').choices(SEVERITIES))
    .addHelpText('after', EXAMPLES)
    .action(async (flags: FleetFlags) => {
      const args = targetArgs;
      targetArgs = [];
      const durationMs = parseDuration(flags.duration);
      const graceMs = parseDuration(flags.timeout);
      const format = reportFormat(flags);
      const nodeArgs = ['fleet-node', '--duration', flags.duration, ...args.flatMap((a) => (a.namespace === null ? ['-i', a.device] : ['--netns', `${a.namespace}:${a.device}`]))];
      const stop = new AbortController();
      const onSignal = () => stop.abort(new SynscopeError(ErrorCode.BAD_USAGE, 'stopped by a signal'));
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      try {
        const analysis = await runFleet(
          {
            dockerSocket: flags.dockerSocket,
            image: flags.image,
            nodeArgs,
            nodeDockerSocket: flags.nodeDockerSocket,
            nodeNetnsDir: flags.nodeNetnsDir,
            constraints: flags.constraint,
            durationMs,
            graceMs,
            onStep: (text) => {
              if (flags.quiet !== true) io.stderr(`synscope: ${text}\n`);
            },
          },
          stop.signal,
        );
        writeReport(analysis, format, { write: io.stdout, terminal: io.stdoutTerminal });
        for (const w of analysis.warnings) io.stderr(`synscope: warning: ${w}\n`);
        const failOn = flags.failOn;
        setExit(failOn !== undefined && analysis.findings.some((f) => atLeast(f.severity, failOn)) ? 1 : 0);
      } catch (e) {
        // The abort's own reason: the service was removed (a failed removal is another error, said as it is).
        if (stop.signal.aborted && e === stop.signal.reason) {
          io.stderr('synscope: stopped by a signal; no fleet service left\n');
          setExit(130);
          return;
        }
        throw e;
      } finally {
        for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      }
    });
}

interface FleetNodeFlags {
  duration: string;
  dockerSocket: string;
  ingressSandbox: string;
  quiet?: boolean;
}

/**
 * One node's part of `synscope fleet` (the global job's command): a bounded capture, then
 * the node's report and evidence as synscope.events/1 lines on stdout, each under Docker's
 * 16 KiB log line.
 */
export function fleetNodeCommand(io: CliIo, setExit: (code: number) => void): Command {
  let targetArgs: TargetArg[] = [];
  return new Command('fleet-node')
    .description("one node's part of synscope fleet: capture for --duration, then print the node's evidence as NDJSON events")
    .option('--duration <TIME>', 'how long to capture', '20s')
    .option('-i, --interface <IFACE>', 'interface to capture on (repeatable); default: what watch finds', (v: string) => void targetArgs.push({ device: v, namespace: null }))
    .option('--netns <NS:IFACE>', 'an interface inside another network namespace (repeatable)', (v: string) => void targetArgs.push(parseNetnsArg(v)))
    .option('--docker-socket <PATH>', 'Docker Engine API socket for the host context and the bridges', DEFAULT_DOCKER_SOCKET)
    .option('--ingress-sandbox <PATH>', "Docker's ingress sandbox namespace, captured when no interface is given and it exists", DOCKER_INGRESS_SANDBOX)
    .option('-q, --quiet', 'no "capturing on" line on stderr')
    .action(async (flags: FleetNodeFlags) => {
      const args = targetArgs;
      targetArgs = [];
      const durationMs = parseDuration(flags.duration);
      const found = args.length > 0 ? null : await discoverWatchTargets({ dockerSocket: flags.dockerSocket, ingressSandbox: flags.ingressSandbox });
      for (const note of found?.notes ?? []) io.stderr(`synscope: note: ${note}\n`);
      const targets = found?.targets ?? args.map((a) => ({ device: a.device, namespace: a.namespace === null ? null : resolveNamespaceSpec(a.namespace) }));
      if (targets.length === 0) throw new SynscopeError(ErrorCode.BAD_USAGE, 'found nothing to capture on (no default route, no Docker bridge, no ingress sandbox): give -i IFACE or --netns NS:IFACE');
      checkLivePrivileges(targets.some((t) => t.namespace !== null));
      const backend = chooseBackend('auto');
      // The bridges rank the flows the node holds, so the context comes first (the capture then reuses it).
      const context = collectNamespaceContext(targets[0]!.namespace, flags.dockerSocket);
      const bridges = bridgesFromContext(await context, []);
      const sample = new NodeFlowSample(bridges);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
      try {
        const result = await runLiveCapture(
          {
            targets,
            backend,
            filter: DEFAULT_FILTER,
            snaplen: DEFAULT_SNAPLEN,
            bufferBytes: DEFAULT_BUFFER_BYTES,
            durationMs,
            write: null,
            analyze: { allFlows: true, onFlow: (flow) => sample.add(flow) },
            trace: true,
            dockerSocket: flags.dockerSocket,
            context,
            onCapturing: () => {
              if (flags.quiet !== true) io.stderr(`synscope: capturing on ${targets.map(targetName).join(', ')} for ${flags.duration}\n`);
            },
          },
          stop.signal,
        );
        const node = os.hostname();
        const analysis = { ...result.analysis, flows: sample.flows() };
        const host = hostAnalysis(node, analysis, result.context, bridges);
        // An image without iproute2 leaves the context without interfaces; the task runs on the host network, so Node's view of them is the node's.
        const hostNetwork = Object.entries(os.networkInterfaces()).flatMap(([name, list]) => (list ?? []).map((i) => [i.address, name] as const));
        const own = new Set([...host.ownAddresses, ...hostNetwork.map(([address]) => address)]);
        const addressInterfaces = new Map([...hostNetwork, ...host.addressInterfaces]);
        for (const line of nodeEventLines(node, analysis, { ...host, ownAddresses: own, addressInterfaces }, sample.seen)) io.stdout(line);
        setExit(0);
      } finally {
        for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      }
    });
}
