import type { ConntrackTable } from './conntrack-table';

/**
 * What only a live host can tell about a capture's time window: kernel counters read
 * before and after it, and kernel trace events recorded during it. `synscope live`
 * collects it; `--write` stores it in FILE.context.json (HostContext.kernelEvidence) so
 * that `analyze --context` on the written files reaches the same findings.
 */
export interface KernelEvidence {
  /** One entry per network namespace the capture involved. */
  counters: CounterDeltas[];
  /** skb:kfree_skb drop reasons and tcp:tcp_retransmit_synack events, in time order. */
  events: KernelEvent[];
  /** Evidence that could not be collected, each with the reason (no tracefs, not root...). */
  unavailable: { source: string; reason: string }[];
  /**
   * The diagnostic counters of the host's other network namespaces that own addresses (a
   * container's, where a listener behind DNAT counts its drops); absent when none was read.
   */
  otherNamespaces?: NamespaceCounters[];
}

export interface CounterDeltas {
  /** Namespace label: "host", an `ip netns` name, a path or "pid:1234". */
  namespace: string;
  /** Seconds between the two readings. */
  seconds: number;
  /** "TcpExt.ListenOverflows": after - before, only counters that changed. */
  deltas: Record<string, number>;
  /** The addresses the namespace owns (loopback and link-local left out); absent in older files. */
  addresses?: string[];
  /** Its connection-tracking table at the window's end (with its holders when nearly full); absent without nf_conntrack or in older files. */
  conntrack?: ConntrackTable;
}

/** Counters of a namespace the capture did not target, read through a process in it, with the addresses it owns. */
export interface NamespaceCounters extends CounterDeltas {
  addresses: string[];
  /** Its listening TCP sockets at the window's end ("127.0.0.1:80"); absent in older files. */
  listeners?: string[];
}

export type KernelEvent = DropEvent | SynAckRetransmitEvent;

/** skb:kfree_skb: a packet the kernel freed as dropped, with its reason. Carries no addresses or ports. */
export interface DropEvent {
  kind: 'drop';
  /** Unix time in seconds (fractional), on the capture's clock. */
  at: number;
  /** Kernel drop reason name without the SKB_DROP_REASON_ prefix, e.g. "TCP_LISTEN_OVERFLOW". */
  reason: string;
  /** Ethertype of the dropped packet (0x0800 IPv4, 0x86dd IPv6). */
  protocol: number;
  /** Kernel function that freed it, e.g. "tcp_v4_syn_recv_sock+0x3c/0x440", when known. */
  location: string | null;
}

/** tcp:tcp_retransmit_synack: the server side sent its SYN-ACK again (the first one got no ACK). */
export interface SynAckRetransmitEvent {
  kind: 'synack-retransmit';
  at: number;
  /** The listener's address and port (the SYN-ACK's source). */
  serverAddress: string;
  serverPort: number;
  /** The client's address and port (the SYN-ACK's destination). */
  clientAddress: string;
  clientPort: number;
}
