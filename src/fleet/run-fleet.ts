import { randomBytes } from 'node:crypto';
import type { Analysis, HostSummary } from '../analysis';
import { ErrorCode, isSynscopeError, SynscopeError } from '../errors';
import { joinHosts, type HostAnalysis } from '../hosts/analyze-hosts';
import { demuxDockerStream } from './docker-log-frames';
import { FLEET_LABEL, FLEET_UNTIL_LABEL, fleetServiceSpec } from './fleet-service';
import { nodeLogResult } from './node-results';
import { ServiceLogLines, type TaskLine } from './service-log-lines';
import { SwarmApi, TERMINAL_TASK_STATES, type SwarmNode, type SwarmTask } from './swarm-api';

export interface FleetOptions {
  dockerSocket: string;
  image: string;
  /** The node command's arguments (fleet-node ...). */
  nodeArgs: string[];
  nodeDockerSocket: string;
  nodeNetnsDir: string;
  constraints: string[];
  /** How long the nodes capture; the run waits that long plus `graceMs` for every task to end. */
  durationMs: number;
  graceMs: number;
  /** Called with the service's id once created, and with each step. */
  onStep?: (text: string) => void;
}

/** Why a node is in the report without evidence. */
export interface SilentNode {
  node: SwarmNode;
  reason: string;
}

const POLL_MS = 500;

/**
 * `synscope fleet`: one bounded capture on every node of the swarm as a global job of the
 * synscope image, the nodes' evidence collected from the service's logs (the swarm carries
 * them to the manager), joined as `analyze --host` joins hosts. The service is removed at
 * the end, also when `stop` aborts (the run then rejects with the abort's reason).
 */
export async function runFleet(options: FleetOptions, stop: AbortSignal): Promise<Analysis> {
  const api = new SwarmApi(options.dockerSocket);
  await api.checkManager();
  const nodes = (await api.nodes()).sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
  const hostNetwork = await api.networkId('host', 'host');
  if (hostNetwork === null) throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, `the Docker engine at ${options.dockerSocket} has no "host" network to run the capture job in`);
  const swept = await sweepLeftovers(api, options.onStep);
  const name = `synscope-fleet-${randomBytes(4).toString('hex')}`;
  stop.throwIfAborted();
  const until = new Date(Date.now() + options.durationMs + options.graceMs);
  const serviceId = await api.createService(
    fleetServiceSpec({ name, image: options.image, args: options.nodeArgs, hostNetworkId: hostNetwork, nodeDockerSocket: options.nodeDockerSocket, nodeNetnsDir: options.nodeNetnsDir, constraints: options.constraints, until }),
  );
  options.onStep?.(`service ${name} (${serviceId.slice(0, 12)}) created: a global job on ${nodes.length} node${nodes.length === 1 ? '' : 's'}`);
  try {
    const tasks = await waitForTasks(api, serviceId, options.durationMs + options.graceMs, stop);
    stop.throwIfAborted();
    options.onStep?.(`tasks ended (${summarizeStates(tasks)}); reading the service's logs`);
    let lines: TaskLine[] = [];
    let logsProblem: string | null = null;
    try {
      lines = readLogLines(await api.logs(serviceId, stop), `GET /services/${serviceId.slice(0, 12)}/logs`);
    } catch (e) {
      stop.throwIfAborted();
      // Every node is then reported without evidence, with this reason.
      logsProblem = isSynscopeError(e) ? e.oneLine() : (e as Error).message;
    }
    const report = fleetReport(nodes, tasks, lines, options.durationMs + options.graceMs, options.onStep);
    return { ...report, warnings: [...(logsProblem === null ? [] : [`the service's logs could not be read: ${logsProblem}`]), ...swept, ...report.warnings] };
  } finally {
    try {
      await api.removeService(serviceId);
    } catch (e) {
      throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, `service ${name} could not be removed (${isSynscopeError(e) ? e.message : (e as Error).message}): remove it with docker service rm ${name}`);
    }
    options.onStep?.(`service ${name} removed`);
  }
}

/**
 * Remove the fleet services that earlier runs left (killed with -9, or the manager went
 * away): those past the deadline their run wrote in their labels. A service still inside
 * its deadline belongs to a run going on now and is left alone. Says what it removed.
 */
async function sweepLeftovers(api: SwarmApi, onStep?: (text: string) => void): Promise<string[]> {
  const said: string[] = [];
  for (const service of await api.servicesLabelled(FLEET_LABEL)) {
    const until = Date.parse(service.labels[FLEET_UNTIL_LABEL] ?? '');
    if (Number.isFinite(until) && until > Date.now()) continue;
    await api.removeService(service.id);
    const text = `removed ${service.name}, left by an earlier synscope fleet that did not end${Number.isFinite(until) ? ` (its run gave up at ${new Date(until).toISOString()})` : ''}`;
    onStep?.(text);
    said.push(text);
  }
  return said;
}

/** The service's tasks once every one has ended (and the orchestrator made them), or as they are at the deadline. */
async function waitForTasks(api: SwarmApi, serviceId: string, timeoutMs: number, stop: AbortSignal): Promise<SwarmTask[]> {
  const deadline = Date.now() + timeoutMs;
  let tasks: SwarmTask[] = [];
  while (!stop.aborted) {
    tasks = await api.tasks(serviceId);
    if (tasks.length > 0 && tasks.every((t) => TERMINAL_TASK_STATES.has(t.state))) return tasks;
    if (Date.now() >= deadline) return tasks;
    await sleep(POLL_MS, stop);
  }
  return tasks;
}

function readLogLines(bytes: Buffer, source: string): TaskLine[] {
  const lines = new ServiceLogLines();
  for (const frame of demuxDockerStream(bytes, false, source)) lines.push(frame);
  return lines.finish();
}

/** Each node's evidence joined into one report; the nodes without evidence in `hosts` with the reason. */
export function fleetReport(nodes: readonly SwarmNode[], tasks: readonly SwarmTask[], lines: readonly TaskLine[], waitedMs: number, onStep?: (text: string) => void): Analysis {
  const answered: HostAnalysis[] = [];
  const silent: SilentNode[] = [];
  const names = hostNames(nodes);
  for (const node of nodes) {
    const own = tasks.filter((t) => t.nodeId === node.id);
    const task = own.find((t) => t.state === 'complete') ?? own[own.length - 1];
    const result = nodeLogResult(lines.filter((l) => l.nodeId === node.id));
    if (result.ok) {
      onStep?.(`${names.get(node.id)!}: ${result.events} events in ${result.bytes} bytes of log lines (${result.chunks} chunk events; largest event ${result.largestEvent} bytes)`);
      const name = names.get(node.id)!;
      // Every node captures on "live:eth0": the node's name tells the inputs apart, as in flow ids.
      const inputs = result.host.analysis.inputs.map((i) => ({ ...i, source: `${name}/${i.source}` }));
      answered.push({ ...result.host, name, analysis: { ...result.host.analysis, inputs } });
      continue;
    }
    silent.push({ node, reason: silentReason(node, task, result.reason, waitedMs) });
  }
  const analysis = answered.length > 0 ? joinHosts(answered) : emptyReport();
  const silentHosts: HostSummary[] = silent.map((s) => ({ name: names.get(s.node.id)!, sources: [], context: null, clockOffsetSeconds: null, clockMatches: 0, noAnswer: s.reason }));
  return {
    ...analysis,
    hosts: [...(analysis.hosts ?? []), ...silentHosts],
    warnings: [...silentHosts.map((h) => `${h.name} did not answer: ${h.noAnswer}`), ...analysis.warnings],
  };
}

function silentReason(node: SwarmNode, task: SwarmTask | undefined, logs: string, waitedMs: number): string {
  if (task === undefined) {
    return node.state !== 'ready' || node.availability !== 'active'
      ? `no task: the node is ${node.state}, availability ${node.availability}`
      : 'no task: the node does not meet the placement constraints';
  }
  const said = task.error !== '' ? task.error : task.message;
  if (!TERMINAL_TASK_STATES.has(task.state)) return `timed out after ${Math.round(waitedMs / 1000)} s with its task ${task.state}${said === '' ? '' : ` (${said})`}`;
  if (task.state !== 'complete') return `task ${task.state}${task.state === 'failed' && task.exitCode !== null ? ` (exit ${task.exitCode})` : ''}${said === '' ? '' : `: ${said}`}; ${logs}`;
  return logs;
}

/** Hostnames name the nodes; two nodes with one hostname get their id's start after it. */
function hostNames(nodes: readonly SwarmNode[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const n of nodes) count.set(n.hostname, (count.get(n.hostname) ?? 0) + 1);
  return new Map(nodes.map((n) => [n.id, count.get(n.hostname)! > 1 ? `${n.hostname}-${n.id.slice(0, 6)}` : n.hostname]));
}

function summarizeStates(tasks: readonly SwarmTask[]): string {
  const by = new Map<string, number>();
  for (const t of tasks) by.set(t.state, (by.get(t.state) ?? 0) + 1);
  return [...by].map(([s, n]) => `${n} ${s}`).join(', ') || 'none';
}

function emptyReport(): Analysis {
  return {
    inputs: [],
    summary: { packets: 0, tcpPackets: 0, flows: 0, handshakes: { attempted: 0, completed: 0, unanswered: 0, rejected: 0, synAckLost: 0 }, decodeProblems: {} },
    flows: [],
    flowsLeftOut: 0,
    failedGroups: [],
    attempts: [],
    interfaceNames: [],
    findings: [],
    warnings: [],
    kernel: null,
    hosts: [],
  };
}

function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    }
    stop.addEventListener('abort', done);
  });
}
