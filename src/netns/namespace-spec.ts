import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, SynscopeError } from '../errors';

/** A network namespace as an nsfs file to open for setns(2), and how to name it in reports. */
export interface ResolvedNamespace {
  /** e.g. /run/netns/blue, /var/run/docker/netns/ingress_sbox, /proc/1234/ns/net */
  readonly path: string;
  /** The `ip netns` name, the file name of a path (ingress_sbox for /var/run/docker/netns/ingress_sbox), or `pid:1234`. */
  readonly label: string;
}

/** Where `ip netns add` pins named namespaces (usually one directory through a symlink). */
export const NETNS_DIRS = ['/run/netns', '/var/run/netns'];

/**
 * Resolve what a user typed for a namespace: an absolute path to an nsfs file (Docker
 * keeps its sandboxes in /var/run/docker/netns), a name under /run/netns or
 * /var/run/netns, or a process as `1234` or `pid:1234`. Throws ERR_NETNS_NOT_FOUND when
 * there is nothing there, listing the named namespaces that do exist.
 */
export function resolveNamespaceSpec(spec: string): ResolvedNamespace {
  const pid = /^(?:pid:)?([1-9]\d*)$/.exec(spec)?.[1];
  if (pid !== undefined) {
    return existingOrThrow({ path: `/proc/${pid}/ns/net`, label: `pid:${pid}` }, `no process ${pid}`);
  }
  if (path.isAbsolute(spec)) {
    // /proc/1234/ns/net is a process's namespace; any other nsfs file (Docker's
    // /var/run/docker/netns/ingress_sbox, /run/netns/blue) goes by its file name.
    const proc = /^\/proc\/([1-9]\d*)\/ns\/net$/.exec(spec)?.[1];
    return existingOrThrow({ path: spec, label: proc !== undefined ? `pid:${proc}` : path.basename(spec) }, `${spec} does not exist`);
  }
  if (spec === '' || spec.includes('/') || spec === '.' || spec === '..') {
    throw new SynscopeError(
      ErrorCode.BAD_USAGE,
      `network namespace "${spec}": give a name from \`ip netns list\`, an absolute path or a pid (${namedNamespacesText()})`,
    );
  }
  for (const dir of NETNS_DIRS) {
    const file = path.join(dir, spec);
    if (fs.existsSync(file)) return { path: file, label: spec };
  }
  throw notFound(`no network namespace named ${spec} in ${NETNS_DIRS.join(' or ')}`);
}

/** Names pinned by `ip netns add`, sorted, each once. */
export function namedNamespaces(): string[] {
  const names = new Set<string>();
  for (const dir of NETNS_DIRS) {
    try {
      for (const name of fs.readdirSync(dir)) names.add(name);
    } catch {
      // No such directory: nobody has run `ip netns add` on this host.
    }
  }
  return [...names].sort();
}

function existingOrThrow(resolved: ResolvedNamespace, missing: string): ResolvedNamespace {
  if (fs.existsSync(resolved.path)) return resolved;
  throw notFound(missing);
}

function notFound(what: string): SynscopeError {
  return new SynscopeError(ErrorCode.NETNS_NOT_FOUND, `${what} (${namedNamespacesText()})`);
}

function namedNamespacesText(): string {
  const names = namedNamespaces();
  return names.length === 0 ? 'no named namespaces exist' : `named namespaces: ${names.join(', ')}`;
}
