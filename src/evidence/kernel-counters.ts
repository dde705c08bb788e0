import * as fs from 'node:fs';
import type { FileReader } from '../context/command';
import { parseProcNet } from '../context/parse-proc-net';
import { parseConntrackStats } from './conntrack-table';
import type { CounterDeltas } from './kernel-evidence';

/** The files the counters come from; all three are per network namespace. */
export const COUNTER_FILES = ['/proc/net/netstat', '/proc/net/snmp'] as const;
const CONNTRACK_STATS = '/proc/net/stat/nf_conntrack';

/**
 * The counters the rules read, with what a rise during a capture means. A name missing
 * from a kernel is simply never reported (TcpExt.PAWSPassive went with tcp_tw_recycle;
 * the IPv4 "no route" counter lives in IpExt, not Ip).
 */
export const DIAGNOSTIC_COUNTERS = [
  'TcpExt.ListenOverflows',
  'TcpExt.ListenDrops',
  'TcpExt.TCPReqQFullDrop',
  'TcpExt.TCPReqQFullDoCookies',
  'TcpExt.SyncookiesSent',
  'TcpExt.SyncookiesFailed',
  'TcpExt.PAWSPassive',
  'TcpExt.PAWSActive',
  'TcpExt.PAWSEstab',
  'TcpExt.TCPBacklogDrop',
  'TcpExt.IPReversePathFilter',
  'TcpExt.TCPTimeWaitOverflow',
  'TcpExt.TCPMinTTLDrop',
  'Ip.InDiscards',
  'Ip.InAddrErrors',
  'Ip.InHdrErrors',
  'IpExt.InNoRoutes',
  'Tcp.AttemptFails',
  'Tcp.InErrs',
  'Tcp.OutRsts',
  'Conntrack.Drop',
  'Conntrack.EarlyDrop',
  'Conntrack.InsertFailed',
] as const;
export type DiagnosticCounter = (typeof DIAGNOSTIC_COUNTERS)[number];

/** One line per diagnostic counter: what a rise during the capture means. */
export const COUNTER_MEANINGS: Readonly<Record<DiagnosticCounter, string>> = {
  'TcpExt.ListenOverflows': 'SYNs or handshake ACKs dropped because an accept queue was full',
  'TcpExt.ListenDrops': 'SYNs a listening socket dropped, for any reason (overflows, PAWS, no memory)',
  'TcpExt.TCPReqQFullDrop': 'SYNs dropped because the SYN queue was full and syncookies were off',
  'TcpExt.TCPReqQFullDoCookies': 'SYN queue full: answered with syncookies',
  'TcpExt.SyncookiesSent': 'SYN-ACKs sent as syncookies',
  'TcpExt.SyncookiesFailed': 'ACKs whose syncookie did not validate',
  'TcpExt.PAWSPassive': 'SYNs dropped by the per-peer timestamp check (tcp_tw_recycle, Linux before 4.12)',
  'TcpExt.PAWSActive': 'SYN-ACKs dropped by PAWS on the connecting side',
  'TcpExt.PAWSEstab': 'segments of established connections dropped by PAWS',
  'TcpExt.TCPBacklogDrop': 'segments dropped because a socket backlog was full',
  'TcpExt.IPReversePathFilter': 'packets dropped by the reverse-path filter (rp_filter)',
  'TcpExt.TCPTimeWaitOverflow': 'TIME-WAIT sockets not created: tcp_max_tw_buckets reached',
  'TcpExt.TCPMinTTLDrop': 'segments dropped by IP_MINTTL',
  'Ip.InDiscards': 'IPv4 packets discarded on input with nothing wrong in them (no memory, for one)',
  'Ip.InAddrErrors': 'IPv4 packets for an address this host does not accept',
  'Ip.InHdrErrors': 'IPv4 packets with a bad header',
  'IpExt.InNoRoutes': 'IPv4 packets dropped for lack of a route',
  'Tcp.AttemptFails': 'connection attempts that failed (SYN-SENT or SYN-RECV reset or closed)',
  'Tcp.InErrs': 'TCP segments received in error (checksum, too short)',
  'Tcp.OutRsts': 'RSTs sent (a closed port answers a SYN with one)',
  'Conntrack.Drop': 'packets dropped because the connection-tracking table was full (nf_conntrack_max) and no entry could be evicted',
  'Conntrack.EarlyDrop': 'unconfirmed or unreplied connection-tracking entries evicted to make room in a full table',
  'Conntrack.InsertFailed': 'connection-tracking entries that could not be inserted (a race of two packets of one new connection)',
};

/**
 * Reads /proc/net/netstat and /proc/net/snmp into "TcpExt.ListenOverflows": n, and
 * /proc/net/stat/nf_conntrack into "Conntrack.Drop": n (when nf_conntrack is loaded). A file that
 * cannot be read adds nothing. Synchronous on purpose: /proc/net resolves through
 * /proc/self, the network namespace of the process's main thread, so a caller reads
 * another namespace's counters by switching the main thread into it (setns), calling
 * this, and switching back, with no await in between.
 */
export function readKernelCounters(readFile: FileReader = readIfPresent): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const file of COUNTER_FILES) {
    const text = readFile(file);
    if (text !== null) Object.assign(counters, parseProcNet(text));
  }
  const stats = readFile(CONNTRACK_STATS);
  if (stats !== null) Object.assign(counters, parseConntrackStats(stats));
  return counters;
}

/**
 * The counters that changed between two readings of one namespace, as after - before.
 * A counter present in only one reading is left out (its change is unknown).
 */
export function counterDeltas(
  namespace: string,
  before: Readonly<Record<string, number>>,
  after: Readonly<Record<string, number>>,
  seconds: number,
): CounterDeltas {
  const deltas: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    const old = before[name];
    if (old !== undefined && value !== old) deltas[name] = value - old;
  }
  return { namespace, seconds, deltas };
}

/** A file's text, or null when it cannot be read. */
export function readIfPresent(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
