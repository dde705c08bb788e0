import type { Flow } from '../flow/flow';
import type { KernelEvent } from './kernel-evidence';

/**
 * Which traced kernel events belong to the captured traffic. tracefs is one per kernel:
 * its events come from every network namespace (other containers, other labs). A SYN-ACK
 * retransmission names its addresses and ports, so it is the capture's when a captured
 * connection has them; a kfree_skb drop names no address, port or namespace, so it is
 * always host-wide (tying it to a namespace needs the skb's device, i.e. eBPF).
 */
export type EventScope = 'captured' | 'host-wide';

export function eventScope(e: KernelEvent, captured: ReadonlySet<string>): EventScope {
  if (e.kind !== 'synack-retransmit') return 'host-wide';
  return captured.has(tupleKey(e.clientAddress, e.clientPort, e.serverAddress, e.serverPort)) ? 'captured' : 'host-wide';
}

/** The tuples of the given flows, as eventScope looks them up. */
export function capturedTuples(flows: readonly Flow[]): Set<string> {
  return new Set(flows.map((f) => tupleKey(f.clientIp, f.clientPort, f.serverIp, f.serverPort)));
}

function tupleKey(client: string, clientPort: number, server: string, serverPort: number): string {
  return `${client}|${clientPort}|${server}|${serverPort}`;
}
