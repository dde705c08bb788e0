import type { SampleCounts } from './sample-counts';
import type { BridgeSubnet } from '../context/bridge';
import type { HostContext } from '../context/host-context';
import type { KernelEvidence } from '../evidence/kernel-evidence';
import type { AttemptPath } from '../flow/attempt-path';
import type { ServicePath } from '../flow/service-path';
import type { Flow } from '../flow/flow';

/** ARP requests seen for one target address: evidence that a host is looking for it on that link. */
export interface ArpSighting {
  target: string;
  /** Requests for the target (a request seen on a bridge and on its port counts once). */
  requests: number;
  /** Replies the target sent: it is on the link after all. */
  replies: number;
  /** Interface names the requests were seen on. */
  interfaces: string[];
  /** Addresses that asked, most requests first (at most a few): the namespace that would send the reply. */
  askers: string[];
}

/** A source MAC seen for one IP source address on one interface. */
export interface MacSighting {
  /** "aa:bb:cc:dd:ee:ff", lower case. */
  mac: string;
  /** Interface name, as in interfaceNames. */
  interface: string;
  packets: number;
}

/** Everything the rules look at. Rules are pure functions of it. */
export interface DiagnosisInput {
  /** Every connection attempt that did not complete (rejected, synAckLost, unanswered). */
  readonly failedFlows: readonly Flow[];
  /**
   * When failedFlows is a sample (a flood: failed-flow-groups.ts), how many attempts and
   * clients a set of them stands for; counts in titles come from here (attemptCount, clientCount).
   */
  readonly counts?: SampleCounts;
  /** Interface id → name, for flow.interfaces. */
  readonly interfaceNames: readonly string[];
  /**
   * Interfaces whose input says when their capture ran (pcapng statistics, a live window)
   * and that its filter kept every TCP packet (pcapng if_filter, a live capture's own), also
   * those that saw no packet at all: a SYN that never reached such an interface was not
   * there to see (every client failing through one hop leaves it empty).
   */
  readonly tcpCaptureSpans?: readonly { interface: string; from: number; to: number }[];
  readonly bridges: readonly BridgeSubnet[];
  /** ARP requests by target address (canonical text). */
  readonly arpRequests: ReadonlyMap<string, ArpSighting>;
  /**
   * Addresses a proposed subnet must avoid: one address (the network address) per IPv4 /24
   * seen as a TCP endpoint, which is exact for subnets of /24 or larger.
   */
  readonly seenAddresses: ReadonlySet<string>;
  readonly capture: CaptureHealth;
  /** The host-context snapshot (`--context FILE`), or null when analysis runs on the capture alone. */
  readonly context: HostContext | null;
  /** Snapshots of the host's other namespaces (a container's, ingress_sbox), for where a DNATed SYN is answered; absent: none. */
  readonly namespaceContexts?: readonly HostContext[];
  /** Source MACs of Ethernet frames by IP source address (canonical text); absent when not collected. */
  readonly macsByAddress?: ReadonlyMap<string, readonly MacSighting[]>;
  /**
   * Completed attempts answered late: the client sent more than one SYN and the first
   * SYN-ACK came at least LATE_ANSWER_SECONDS after the first SYN. Absent when not collected.
   */
  readonly lateAnsweredFlows?: readonly Flow[];
  /**
   * Connection attempts (answered or not) per client address and server address, as the
   * tcp_tw_recycle replay needs them; absent when not collected.
   */
  readonly peerSyns?: readonly PeerSyns[];
  /** Failed attempts seen at several hops (NAT stitching), with their hop lists; absent when not collected. */
  readonly attempts?: readonly AttemptPath[];
  /** The hops stitched attempts (any outcome) took, per service and hop list; absent when not collected. */
  readonly servicePaths?: readonly ServicePath[];
  /**
   * Kernel counters and trace events of the capture's window (live mode, or a context
   * file written by it); absent or null otherwise, and then no finding depends on it.
   */
  readonly kernel?: KernelEvidence | null;
}

/**
 * The connection attempts from one client address to one server address, in the order
 * their flows left the tracker: numbers only, one entry per attempt at the same index in
 * every array. Linux keeps its per-peer timestamp (tcp_metrics) per (local address, peer
 * address) pair, so that is the key. Attempts refused by RST or ICMP are left out: they
 * never reached a listening socket's SYN handling.
 */
export interface PeerSyns {
  readonly ipVersion: 4 | 6;
  /** Client (peer) and server addresses, canonical text. */
  readonly client: string;
  readonly server: string;
  /** Flow number n of flow id "f<n>". */
  readonly flow: number[];
  /** Time of the first SYN (epoch seconds). */
  readonly firstSynAt: number[];
  /** TSval of the first SYN, or -1 when it carried no timestamp option. */
  readonly tsVal: number[];
  /** SYNs sent, retransmissions included. */
  readonly syns: number[];
  /** Time of the first SYN-ACK, or -1 when the server never answered. */
  readonly answeredAt: number[];
  /** Time of the flow's last packet. */
  readonly lastSeen: number[];
  /** 1 when the server sent the first FIN (its socket ends in TIME-WAIT), else 0. */
  readonly serverClosed: number[];
  /** Attempts not recorded because a cap was reached. */
  notRecorded: number;
}

/** What the inputs say about the capture's own completeness. */
export interface CaptureHealth {
  /** Packets the capture reported dropping (pcapng ISB / if_drop), or null when unknown. */
  droppedByCapture: number | null;
  /** Flows that show a SYN-ACK but never the SYN: the client's direction is missing. */
  synAckWithoutSyn: number;
  synAckWithoutSynExamples: string[];
  /** Flows seen in one direction only that are not connection attempts (midstream, one side). */
  oneSidedFlows: number;
  /** Files cut off in the middle of a record: "file (byte N)". */
  truncatedFiles: string[];
  /** Packets whose headers were cut off by the snap length or were malformed. */
  undecodablePackets: number;
  /** Completed handshakes (a two-sided capture shows some unless every attempt failed). */
  completed: number;
  /** SYNs and SYN-ACKs whose TCP options the snap length cut (timestamps unread); absent: none. */
  handshakeOptionsCut?: number;
  /**
   * The capture kept only handshake packets (SYN-ACKs seen, not one packet without SYN or RST:
   * a filter such as tcp[tcpflags] & tcp-syn != 0): a client's ACK can never be seen. `rsts`:
   * whether it has RSTs (else a refusal by RST may have been filtered out too). Absent: no.
   */
  handshakeOnly?: { rsts: boolean };
  /**
   * SYNs and SYN-ACKs seen twice on one interface within milliseconds, when enough of them
   * (at least 2, and a tenth of all): several hops merged into one link. Absent: no.
   */
  mergedHops?: number;
}

/**
 * A completed handshake whose first SYN-ACK came this long after the first SYN had its
 * first SYN(s) dropped: Linux retransmits an unanswered SYN after 1 s (TCP_TIMEOUT_INIT),
 * so the answer went to a retransmission.
 */
export const LATE_ANSWER_SECONDS = 0.9;
