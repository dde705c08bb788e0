import * as fs from 'node:fs';
import { ErrorCode, SynscopeError } from '../errors';
import type { KernelEvidence } from '../evidence/kernel-evidence';
import { CONTEXT_SCHEMA, type HostContext } from './host-context';
import { isObject } from './json-fields';
import { contextProblem } from './validate-context';

/** Largest host context read: a busy host's snapshot is well under 1 MiB; /dev/zero is not a snapshot. */
export const MAX_CONTEXT_BYTES = 64 * 1024 * 1024;

/**
 * Read and check a snapshot written by `synscope context`: at most MAX_CONTEXT_BYTES,
 * valid against schema/context.schema.json (synscope.context/1) and the checks a schema
 * cannot express. Collections left out (a snapshot written by hand with only interfaces,
 * say) read as empty, and Docker networks as unknown (null).
 * Throws SynscopeError ERR_READ_FAILED or ERR_BAD_CONTEXT naming the file and field.
 */
export function loadHostContext(path: string): HostContext {
  return parseHostContext(readBounded(path), path);
}

/** The file's text, refusing quickly what is larger than MAX_CONTEXT_BYTES (a regular file by its size, a device or pipe once that much arrived). */
function readBounded(path: string): string {
  const failed = (e: unknown) => new SynscopeError(ErrorCode.READ_FAILED, `cannot read host context: ${(e as Error).message}`, { file: path });
  const tooBig = () => new SynscopeError(ErrorCode.BAD_CONTEXT, `host context is larger than ${MAX_CONTEXT_BYTES / 1024 / 1024} MiB`, { file: path, offset: MAX_CONTEXT_BYTES });
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw failed(e);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isFile() && stat.size > MAX_CONTEXT_BYTES) throw tooBig();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 20);
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      // JSON text starts with whitespace, "{" or a UTF-8 BOM; /dev/zero's NULs are refused without reading on.
      if (total === 0 && !/[\t\n\r {\xef]/.test(String.fromCharCode(chunk[0]!))) {
        throw new SynscopeError(ErrorCode.BAD_CONTEXT, `host context is not JSON (starts with byte 0x${chunk[0]!.toString(16).padStart(2, '0')})`, { file: path, offset: 0 });
      }
      total += n;
      if (total > MAX_CONTEXT_BYTES) throw tooBig();
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    if (e instanceof SynscopeError) throw e;
    throw failed(e);
  } finally {
    fs.closeSync(fd);
  }
}

/** `loadHostContext` over text already read; `file` names the source in errors. */
export function parseHostContext(text: string, file: string): HostContext {
  const bad = (message: string, offset?: number) => new SynscopeError(ErrorCode.BAD_CONTEXT, message, { file, offset });
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    const message = (e as Error).message;
    const at = /at position (\d+)/.exec(message);
    // V8 quotes the text around the error; a binary file's bytes would break the one-line message.
    const printable = message.replace(/[^\x20-\x7e]/g, '?').slice(0, 160);
    throw bad(`host context is not JSON (${printable})`, at === null ? undefined : Buffer.byteLength(text.slice(0, Number(at[1]))));
  }
  if (!isObject(doc)) throw bad('host context must be a JSON object');
  if (doc['schema'] === undefined) throw bad(`host context has no "schema"; expected "${CONTEXT_SCHEMA}" (write it with synscope context)`);
  if (doc['schema'] !== CONTEXT_SCHEMA) throw bad(`host context schema ${JSON.stringify(doc['schema'])} is not "${CONTEXT_SCHEMA}"`);
  const problem = contextProblem(doc);
  if (problem !== null) throw bad(problem);

  const d = doc as Partial<HostContext> & { kernelEvidence?: Partial<KernelEvidence> | null };
  const ctx: HostContext = {
    schema: CONTEXT_SCHEMA,
    capturedAt: d.capturedAt ?? '',
    hostname: d.hostname ?? '',
    namespace: d.namespace ?? '',
    kernelRelease: d.kernelRelease ?? null,
    interfaces: d.interfaces ?? [],
    routes: d.routes ?? [],
    rules: d.rules ?? [],
    dockerNetworks: d.dockerNetworks ?? null,
    sysctls: d.sysctls ?? {},
    counters: d.counters ?? {},
    conntrack: d.conntrack ?? null,
    natRules: { iptables: d.natRules?.iptables ?? null, nft: d.natRules?.nft ?? null },
    unavailable: d.unavailable ?? [],
  };
  const k = d.kernelEvidence;
  if (k != null) ctx.kernelEvidence = { counters: k.counters ?? [], events: k.events ?? [], unavailable: k.unavailable ?? [], ...(k.otherNamespaces != null && { otherNamespaces: k.otherNamespaces }) };
  if (d.dockerSwarm !== undefined) ctx.dockerSwarm = d.dockerSwarm;
  if (Array.isArray(d.sysctlChanges) && d.sysctlChanges.length > 0) ctx.sysctlChanges = d.sysctlChanges;
  if (Array.isArray(d.listeners)) ctx.listeners = d.listeners;
  if (Array.isArray(d.dockerPorts)) ctx.dockerPorts = d.dockerPorts;
  return ctx;
}
