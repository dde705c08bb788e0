import * as fs from 'node:fs';
import { canonicalAddress } from '../context/canonical';
import { readTcpListeners } from '../context/parse-listeners';
import { parseProcNet } from '../context/parse-proc-net';
import { COUNTER_FILES, DIAGNOSTIC_COUNTERS, readIfPresent } from './kernel-counters';

/** Network namespaces, by inode, each with one process in it (through which /proc/PID/net reads it). */
export type NamespaceCensus = Map<number, number>;

/**
 * Every network namespace a process of this host is in, read from /proc/PID/ns/net. A
 * namespace only pinned by a mount (ip netns add, Docker's ingress_sbox) has no process and
 * is not found; every container has one.
 */
export function namespaceCensus(proc = '/proc'): NamespaceCensus {
  const census: NamespaceCensus = new Map();
  let entries: string[];
  try {
    entries = fs.readdirSync(proc);
  } catch {
    return census;
  }
  for (const entry of entries) {
    if (!/^[1-9]\d*$/.test(entry)) continue;
    const inode = namespaceOf(Number(entry), proc);
    if (inode !== null && !census.has(inode)) census.set(inode, Number(entry));
  }
  return census;
}

/** The inode of PID's network namespace, or null when the process is gone (or hidden). */
export function namespaceOf(pid: number, proc = '/proc'): number | null {
  return namespaceInodeAt(`${proc}/${pid}/ns/net`);
}

/** The inode of the network namespace an nsfs file (or /proc/PID/ns/net) stands for, or null. */
export function namespaceInodeAt(path: string): number | null {
  try {
    return fs.statSync(path).ino;
  } catch {
    return null;
  }
}

const DIAGNOSTIC = new Set<string>(DIAGNOSTIC_COUNTERS);

/** The namespace's diagnostic counters, read through a process in it (/proc/PID/net/netstat and snmp). */
export function countersThrough(pid: number, proc = '/proc'): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const file of COUNTER_FILES) {
    const text = readIfPresent(file.replace(/^\/proc\/net\//, `${proc}/${pid}/net/`));
    if (text !== null) Object.assign(counters, parseProcNet(text, DIAGNOSTIC));
  }
  return counters;
}

/** The addresses the namespace of PID owns (not loopback), from its fib_trie and if_inet6. */
export function addressesThrough(pid: number, proc = '/proc'): string[] {
  return localAddresses(readIfPresent(`${proc}/${pid}/net/fib_trie`) ?? '', readIfPresent(`${proc}/${pid}/net/if_inet6`) ?? '');
}

/**
 * The namespace's listening TCP sockets ("127.0.0.1:80", "[::]:8000"), from /proc/PID/net/tcp
 * and tcp6; null when they cannot be read (the process gone), which is not "none".
 */
export function listenersThrough(pid: number, proc = '/proc'): string[] | null {
  return readTcpListeners(readIfPresent, `${proc}/${pid}/net`);
}

/** The addresses of the namespace this thread is in (/proc/net resolves through the main thread). */
export function addressesHere(): string[] {
  return localAddresses(readIfPresent('/proc/net/fib_trie') ?? '', readIfPresent('/proc/net/if_inet6') ?? '');
}

/**
 * Local addresses from /proc/net/fib_trie (a leaf "|-- 172.17.0.2" followed by "/32 host
 * LOCAL") and /proc/net/if_inet6 (32 hex digits first on each line), loopback and IPv6
 * link-local (fe80::/10, the same on many links) left out.
 */
export function localAddresses(fibTrie: string, ifInet6: string): string[] {
  const out = new Set<string>();
  let leaf: string | null = null;
  for (const line of fibTrie.split('\n')) {
    const l = /\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(line.trimEnd());
    if (l !== null) leaf = l[1]!;
    else if (leaf !== null && /^\s*\/32 host LOCAL/.test(line) && !leaf.startsWith('127.')) out.add(leaf);
  }
  for (const line of ifInet6.split('\n')) {
    const hex = /^([0-9a-f]{32})\s/.exec(line)?.[1];
    if (hex === undefined) continue;
    const address = canonicalAddress(hex.match(/.{4}/g)!.join(':'));
    if (address !== null && address.text !== '::1' && !/^fe[89ab]/.test(hex)) out.add(address.text);
  }
  return [...out];
}

