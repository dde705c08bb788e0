import * as fs from 'node:fs';
import * as path from 'node:path';
import { NETNS_DIRS } from '../netns/namespace-spec';

/**
 * A label for the network namespace this process runs in: the `ip netns` name when one
 * is pinned under /run/netns, "host" when it is PID 1's namespace, else "net:[inode]".
 * Namespaces are told apart by the inode of their nsfs file.
 */
export function currentNamespaceLabel(): string {
  const self = inodeOf('/proc/self/ns/net');
  if (self === null) return 'unknown';
  if (inodeOf('/proc/1/ns/net') === self) return 'host';
  for (const dir of NETNS_DIRS) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    const match = names.find((n) => inodeOf(path.join(dir, n)) === self);
    if (match !== undefined) return match;
  }
  return `net:[${self}]`;
}

function inodeOf(file: string): number | null {
  try {
    return fs.statSync(file).ino;
  } catch {
    return null;
  }
}
