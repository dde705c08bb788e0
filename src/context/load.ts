import * as fs from 'node:fs';
import { parseAddress } from '../decode/address';
import { ErrorCode, SynscopeError } from '../errors';
import { parseSubnet } from '../net/cidr';
import { CONTEXT_SCHEMA, type HostContext } from './host-context';
import type { KernelEvidence } from '../evidence/kernel-evidence';
import { isObject, type JsonObject } from './json-fields';

/**
 * Read and check a snapshot written by `synscope context`. The schema must be
 * synscope.context/1 and every field present must have its documented type, with
 * addresses and CIDRs that parse. Collections left out (a snapshot written by hand
 * with only interfaces, say) read as empty, and Docker networks as unknown (null).
 * Throws SynscopeError ERR_READ_FAILED or ERR_BAD_CONTEXT naming the file and field.
 */
export function loadHostContext(path: string): HostContext {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new SynscopeError(ErrorCode.READ_FAILED, `cannot read host context: ${(e as Error).message}`, { file: path });
  }
  return parseHostContext(text, path);
}

/** `loadHostContext` over text already read; `file` names the source in errors. */
export function parseHostContext(text: string, file: string): HostContext {
  const bad = (message: string) => new SynscopeError(ErrorCode.BAD_CONTEXT, message, { file });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(`host context is not JSON (${(e as Error).message})`);
  }
  if (!isObject(doc)) throw bad('host context must be a JSON object');
  if (doc['schema'] === undefined) throw bad(`host context has no "schema"; expected "${CONTEXT_SCHEMA}" (write it with synscope context)`);
  if (doc['schema'] !== CONTEXT_SCHEMA) throw bad(`host context schema ${JSON.stringify(doc['schema'])} is not "${CONTEXT_SCHEMA}"`);

  const check = new Checker(bad);
  const ctx: HostContext = {
    schema: CONTEXT_SCHEMA,
    capturedAt: check.optString(doc, 'capturedAt') ?? '',
    hostname: check.optString(doc, 'hostname') ?? '',
    namespace: check.optString(doc, 'namespace') ?? '',
    kernelRelease: check.optString(doc, 'kernelRelease'),
    interfaces: check.list(doc, 'interfaces', (i, at) => {
      check.strings(i, at, ['name', 'kind']);
      check.numbers(i, at, ['index', 'mtu']);
      check.nullableStrings(i, at, ['mac', 'master']);
      check.type(i, at, 'up', 'boolean');
      check.stringArray(i, at, 'ports');
      check.array(i, at, 'addresses').forEach((a, k) => {
        const where = `${at}.addresses[${k}]`;
        if (!isObject(a) || (a['family'] !== 4 && a['family'] !== 6)) throw bad(`${where}: expected { family: 4 | 6, address, prefixLength }`);
        check.address(a, where, 'address');
        check.numbers(a, where, ['prefixLength']);
      });
    }),
    routes: check.list(doc, 'routes', (r, at) => {
      check.family(r, at);
      check.strings(r, at, ['table', 'type']);
      check.cidr(r, at, 'destination');
      check.nullableStrings(r, at, ['device', 'scope', 'protocol']);
      check.nullableAddresses(r, at, ['gateway', 'source']);
      check.numbers(r, at, ['metric']);
    }),
    rules: check.list(doc, 'rules', (r, at) => {
      check.family(r, at);
      check.numbers(r, at, ['priority']);
      check.strings(r, at, ['action']);
      check.nullableCidrs(r, at, ['from', 'to']);
      check.nullableStrings(r, at, ['iif', 'oif', 'fwmark', 'table']);
      check.type(r, at, 'invert', 'boolean');
    }),
    dockerNetworks:
      doc['dockerNetworks'] === undefined || doc['dockerNetworks'] === null
        ? null
        : check.list(doc, 'dockerNetworks', (n, at) => {
            check.strings(n, at, ['id', 'name', 'driver', 'scope']);
            check.stringArray(n, at, 'subnets').forEach((s, k) => {
              if (parseSubnet(s) === null) throw bad(`${at}.subnets[${k}]: "${s}" is not a CIDR`);
            });
            check.stringArray(n, at, 'gateways');
            check.nullableStrings(n, at, ['bridge']);
            check.type(n, at, 'ingress', 'boolean');
            check.type(n, at, 'internal', 'boolean');
          }),
    sysctls: check.record(doc, 'sysctls', 'string'),
    counters: check.record(doc, 'counters', 'number'),
    conntrack: check.conntrack(doc),
    natRules: check.natRules(doc),
    unavailable: check.list(doc, 'unavailable', (u, at) => check.strings(u, at, ['source', 'reason'])),
  };
  const kernel = check.kernelEvidence(doc);
  if (kernel !== undefined) ctx.kernelEvidence = kernel;
  const swarm = check.dockerSwarm(doc);
  if (swarm !== undefined) ctx.dockerSwarm = swarm;
  return ctx;
}

/** Field checks that throw ERR_BAD_CONTEXT naming the field path ("routes[3].gateway"). */
class Checker {
  constructor(private readonly bad: (message: string) => SynscopeError) {}

  optString(o: JsonObject, key: string): string | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') throw this.bad(`${key}: expected a string`);
    return v;
  }

  /** An optional top-level array whose elements are objects passing `each`; the elements are returned as the typed list. */
  list<T>(o: JsonObject, key: string, each: (item: JsonObject, at: string) => void): T[] {
    const v = o[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw this.bad(`${key}: expected an array`);
    v.forEach((item, k) => {
      const at = `${key}[${k}]`;
      if (!isObject(item)) throw this.bad(`${at}: expected an object`);
      each(item, at);
    });
    return v as T[];
  }

  array(o: JsonObject, at: string, key: string): unknown[] {
    const v = o[key];
    if (!Array.isArray(v)) throw this.bad(`${at}.${key}: expected an array`);
    return v;
  }

  stringArray(o: JsonObject, at: string, key: string): string[] {
    const v = this.array(o, at, key);
    if (v.some((s) => typeof s !== 'string')) throw this.bad(`${at}.${key}: expected an array of strings`);
    return v as string[];
  }

  type(o: JsonObject, at: string, key: string, type: 'string' | 'number' | 'boolean'): void {
    if (typeof o[key] !== type) throw this.bad(`${at}.${key}: expected a ${type}`);
  }

  strings(o: JsonObject, at: string, keys: readonly string[]): void {
    for (const k of keys) this.type(o, at, k, 'string');
  }

  numbers(o: JsonObject, at: string, keys: readonly string[]): void {
    for (const k of keys) this.type(o, at, k, 'number');
  }

  nullableStrings(o: JsonObject, at: string, keys: readonly string[]): void {
    for (const k of keys) if (o[k] !== null) this.type(o, at, k, 'string');
  }

  family(o: JsonObject, at: string): void {
    if (o['family'] !== 4 && o['family'] !== 6) throw this.bad(`${at}.family: expected 4 or 6`);
  }

  address(o: JsonObject, at: string, key: string): void {
    const v = o[key];
    if (typeof v !== 'string' || parseAddress(v) === null) throw this.bad(`${at}.${key}: expected an IP address`);
  }

  nullableAddresses(o: JsonObject, at: string, keys: readonly string[]): void {
    for (const k of keys) if (o[k] !== null) this.address(o, at, k);
  }

  cidr(o: JsonObject, at: string, key: string): void {
    const v = o[key];
    if (typeof v !== 'string' || parseSubnet(v) === null) throw this.bad(`${at}.${key}: expected a CIDR such as 10.0.0.0/8`);
  }

  nullableCidrs(o: JsonObject, at: string, keys: readonly string[]): void {
    for (const k of keys) if (o[k] !== null) this.cidr(o, at, k);
  }

  record<T extends 'string' | 'number'>(o: JsonObject, key: string, type: T): Record<string, T extends 'string' ? string : number> {
    const v = o[key];
    if (v === undefined) return {};
    if (!isObject(v) || Object.values(v).some((x) => typeof x !== type)) throw this.bad(`${key}: expected an object of ${type}s`);
    return v as Record<string, T extends 'string' ? string : number>;
  }

  conntrack(o: JsonObject): HostContext['conntrack'] {
    const v = o['conntrack'];
    if (v === undefined || v === null) return null;
    if (!isObject(v) || typeof v['count'] !== 'number' || typeof v['max'] !== 'number') throw this.bad('conntrack: expected { count, max } or null');
    return { count: v['count'], max: v['max'] };
  }

  /** Checked to the depth the rules read it: counter deltas per namespace, events with a kind and a time. */
  kernelEvidence(o: JsonObject): KernelEvidence | undefined {
    const v = o['kernelEvidence'];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw this.bad('kernelEvidence: expected an object');
    this.list(v, 'counters', (c, at) => {
      this.strings(c, `kernelEvidence.${at}`, ['namespace']);
      this.numbers(c, `kernelEvidence.${at}`, ['seconds']);
      this.record(c, 'deltas', 'number');
    });
    this.list(v, 'events', (e, at) => {
      if (e['kind'] !== 'drop' && e['kind'] !== 'synack-retransmit') throw this.bad(`kernelEvidence.${at}.kind: expected "drop" or "synack-retransmit"`);
      this.numbers(e, `kernelEvidence.${at}`, ['at']);
    });
    this.list(v, 'unavailable', (u, at) => this.strings(u, `kernelEvidence.${at}`, ['source', 'reason']));
    return { counters: [], events: [], unavailable: [], ...v } as unknown as KernelEvidence;
  }

  dockerSwarm(o: JsonObject): HostContext['dockerSwarm'] {
    const v = o['dockerSwarm'];
    if (v === undefined || v === null) return v;
    if (!isObject(v)) throw this.bad('dockerSwarm: expected an object or null');
    this.strings(v, 'dockerSwarm', ['localNodeState']);
    this.type(v, 'dockerSwarm', 'controlAvailable', 'boolean');
    this.nullableStrings(v, 'dockerSwarm', ['nodeAddress']);
    for (const k of ['managers', 'nodes']) if (v[k] !== null) this.type(v, 'dockerSwarm', k, 'number');
    this.stringArray(v, 'dockerSwarm', 'remoteManagers');
    return v as unknown as NonNullable<HostContext['dockerSwarm']>;
  }

  natRules(o: JsonObject): HostContext['natRules'] {
    const v = o['natRules'];
    if (v === undefined || v === null) return { iptables: null, nft: null };
    if (!isObject(v)) throw this.bad('natRules: expected { iptables, nft }');
    return { iptables: this.optString(v, 'iptables'), nft: this.optString(v, 'nft') };
  }
}
