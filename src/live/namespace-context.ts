import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { collectHostContext } from '../context/collect';
import { DEFAULT_DOCKER_SOCKET } from '../context/docker-api';
import { emptyHostContext } from '../context/empty-context';
import type { HostContext } from '../context/host-context';
import { parseHostContext } from '../context/load';
import type { ResolvedNamespace } from '../netns/namespace-spec';

/** bin/synscope.js, from dist/src/live/. */
const CLI = path.join(__dirname, '..', '..', '..', 'bin', 'synscope.js');
/** Detached, so a Ctrl-C at the terminal stops synscope live (which then waits for this) and not its snapshot. */
const CHILD_OPTIONS = { timeout: 30000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' as const, detached: true };

/**
 * The host context of a network namespace. synscope's own namespace is read in-process;
 * another one by a child `synscope context --netns`, which enters it for good before it
 * starts: collecting is asynchronous, and an await would resume in the wrong namespace.
 */
export async function collectNamespaceContext(namespace: ResolvedNamespace | null, dockerSocket: string = DEFAULT_DOCKER_SOCKET): Promise<HostContext> {
  if (namespace === null) return collectHostContext({ dockerSocket });
  try {
    return await collectInChild(namespace, dockerSocket);
  } catch (e) {
    return contextWithout(namespace.label, (e as Error).message);
  }
}

async function collectInChild(namespace: ResolvedNamespace, dockerSocket: string): Promise<HostContext> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [CLI, 'context', '--netns', namespace.path, '--docker-socket', dockerSocket], CHILD_OPTIONS, (err, out, stderr) => {
      if (err !== null) reject(new Error(`synscope context --netns ${namespace.label}: ${(stderr.trim() || err.message).split('\n')[0]}`));
      else resolve(out);
    });
  });
  const context = parseHostContext(stdout, `context of ${namespace.label}`);
  return { ...context, namespace: namespace.label };
}

/** A snapshot that says only why there is nothing in it. */
function contextWithout(label: string, reason: string): HostContext {
  return emptyHostContext({
    capturedAt: new Date().toISOString(),
    hostname: os.hostname(),
    namespace: label,
    kernelRelease: os.release(),
    unavailable: [{ source: 'context', reason }],
  });
}
