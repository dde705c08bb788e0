import { dockerRequest, type DockerAnswer } from '../context/docker-api';
import { parseDockerSwarm } from '../context/docker-swarm';
import { isObject, num, parseJsonArray, str, type JsonObject } from '../context/json-fields';
import { ErrorCode, SynscopeError } from '../errors';

/** Global jobs (ServiceSpec.Mode.GlobalJob) came with Engine API 1.41 (Docker 20.10). */
export const FLEET_API_VERSION = '1.41';
const TIMEOUT_MS = 10_000;
/** Service logs gather every node's lines through the managers: more time than one GET. */
const LOGS_TIMEOUT_MS = 60_000;

/** A swarm node as GET /nodes reports it. */
export interface SwarmNode {
  id: string;
  hostname: string;
  /** ready, down, unknown, disconnected. */
  state: string;
  /** active, pause, drain. */
  availability: string;
}

/** A task as GET /tasks reports it. */
export interface SwarmTask {
  id: string;
  nodeId: string;
  /** new, pending, assigned, accepted, preparing, starting, running, complete, failed, rejected, shutdown, orphaned, remove. */
  state: string;
  desiredState: string;
  message: string;
  error: string;
  exitCode: number | null;
}

export const TERMINAL_TASK_STATES = new Set(['complete', 'failed', 'rejected', 'shutdown', 'orphaned', 'remove']);

/** The Engine API of a swarm manager, versioned paths only (the global-job mode needs 1.41). */
export class SwarmApi {
  constructor(readonly socket: string) {}

  /** The daemon must be a manager of an active swarm speaking API 1.41 or later; else a one-line error (exit 2). */
  async checkManager(): Promise<void> {
    const info = await this.call('GET', '/info', null, [200]);
    const swarm = parseDockerSwarm(info.toString('utf8'));
    if (swarm.localNodeState !== 'active') throw new SynscopeError(ErrorCode.BAD_USAGE, `the Docker engine at ${this.socket} is not in a swarm (state ${swarm.localNodeState}): run fleet on a manager of the swarm`);
    if (!swarm.controlAvailable) throw new SynscopeError(ErrorCode.BAD_USAGE, `the Docker engine at ${this.socket} is a swarm worker, not a manager: run fleet on a manager (docker node ls lists them)`);
    const version = parseObject((await this.call('GET', '/version', null, [200])).toString('utf8'), 'Docker API GET /version');
    const apiVersion = str(version, 'ApiVersion') ?? '0.0';
    const [major, minor] = apiVersion.split('.').map(Number);
    if (!(major! > 1 || (major === 1 && minor! >= 41))) throw new SynscopeError(ErrorCode.BAD_USAGE, `the Docker engine at ${this.socket} speaks API ${apiVersion}; fleet needs ${FLEET_API_VERSION} (Docker 20.10) for global jobs`);
  }

  async nodes(): Promise<SwarmNode[]> {
    const list = parseJsonArray((await this.call('GET', `/v${FLEET_API_VERSION}/nodes`, null, [200])).toString('utf8'), 'Docker API GET /nodes');
    return list.map((n) => {
      const id = str(n, 'ID') ?? '';
      return {
        id,
        hostname: str(field(n, 'Description'), 'Hostname') ?? id,
        state: str(field(n, 'Status'), 'State') ?? 'unknown',
        availability: str(field(n, 'Spec'), 'Availability') ?? 'active',
      };
    });
  }

  /** The id of the network named `name` with driver `driver` (the host network for a service), or null. */
  async networkId(name: string, driver: string): Promise<string | null> {
    const list = parseJsonArray((await this.call('GET', `/v${FLEET_API_VERSION}/networks`, null, [200])).toString('utf8'), 'Docker API GET /networks');
    const found = list.find((n) => n['Name'] === name && n['Driver'] === driver);
    return found === undefined ? null : str(found, 'Id');
  }

  async createService(spec: object): Promise<string> {
    const body = await this.call('POST', `/v${FLEET_API_VERSION}/services/create`, spec, [201]);
    const id = str(parseObject(body.toString('utf8'), 'Docker API POST /services/create'), 'ID');
    if (id === null) throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, 'Docker API POST /services/create: no ID in the answer');
    return id;
  }

  async tasks(serviceId: string): Promise<SwarmTask[]> {
    const filters = encodeURIComponent(JSON.stringify({ service: [serviceId] }));
    const list = parseJsonArray((await this.call('GET', `/v${FLEET_API_VERSION}/tasks?filters=${filters}`, null, [200])).toString('utf8'), 'Docker API GET /tasks');
    return list.map((t) => {
      const status = field(t, 'Status');
      return {
        id: str(t, 'ID') ?? '',
        nodeId: str(t, 'NodeID') ?? '',
        state: str(status, 'State') ?? 'unknown',
        desiredState: str(t, 'DesiredState') ?? '',
        message: str(status, 'Message') ?? '',
        error: str(status, 'Err') ?? '',
        exitCode: num(field(status, 'ContainerStatus'), 'ExitCode'),
      };
    });
  }

  /** Every line the service's tasks wrote so far, multiplexed (no TTY), each with its time and its node and task ids; `stop` gives up waiting. */
  logs(serviceId: string, stop?: AbortSignal): Promise<Buffer> {
    return this.call('GET', `/v${FLEET_API_VERSION}/services/${serviceId}/logs?stdout=1&stderr=1&timestamps=1&details=1`, null, [200], LOGS_TIMEOUT_MS, stop);
  }

  /** Services carrying `label`, with their labels. */
  async servicesLabelled(label: string): Promise<{ id: string; name: string; labels: Record<string, string> }[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
    const list = parseJsonArray((await this.call('GET', `/v${FLEET_API_VERSION}/services?filters=${filters}`, null, [200])).toString('utf8'), 'Docker API GET /services');
    return list.map((s) => {
      const spec = field(s, 'Spec');
      return {
        id: str(s, 'ID') ?? '',
        name: str(spec, 'Name') ?? '',
        labels: Object.fromEntries(Object.entries(field(spec, 'Labels')).filter((e): e is [string, string] => typeof e[1] === 'string')),
      };
    });
  }

  /** Remove the service; a service already gone is fine. */
  async removeService(serviceId: string): Promise<void> {
    await this.call('DELETE', `/v${FLEET_API_VERSION}/services/${serviceId}`, null, [200, 404]);
  }

  /** Whether a service of this id still exists. */
  async serviceExists(serviceId: string): Promise<boolean> {
    const answer = await this.request('GET', `/v${FLEET_API_VERSION}/services/${serviceId}`, null, TIMEOUT_MS);
    return answer.status !== 404;
  }

  private async request(method: string, path: string, body: object | null, timeoutMs: number, stop?: AbortSignal): Promise<Extract<DockerAnswer, { ok: true }>> {
    const answer = await dockerRequest(this.socket, method, path, body, timeoutMs, stop);
    if (!answer.ok) throw new SynscopeError(ErrorCode.BAD_USAGE, `Docker Engine API: ${answer.reason}`);
    return answer;
  }

  private async call(method: string, path: string, body: object | null, expected: number[], timeoutMs = TIMEOUT_MS, stop?: AbortSignal): Promise<Buffer> {
    const answer = await this.request(method, path, body, timeoutMs, stop);
    if (!expected.includes(answer.status)) {
      const message = safeMessage(answer.body);
      throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, `Docker Engine API ${method} ${path.split('?')[0]}: HTTP ${answer.status}${message === '' ? '' : `: ${message}`}`);
    }
    return answer.body;
  }
}

/** The object field `key`, or an empty object. */
function field(o: JsonObject, key: string): JsonObject {
  const v = o[key];
  return isObject(v) ? v : {};
}

function parseObject(text: string, source: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, `${source}: output is not JSON (${(e as Error).message})`);
  }
  if (!isObject(value)) throw new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, `${source}: expected a JSON object`);
  return value;
}

/** The daemon's error message ({"message": ...}) or the start of the body. */
function safeMessage(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 200).trim();
}
