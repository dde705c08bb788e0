import type { BridgeSubnet } from '../context/bridge';
import type { HostContext } from '../context/host-context';
import type { Flow } from '../flow/flow';

/** ARP requests seen for one target address: evidence that a host is looking for it on that link. */
export interface ArpSighting {
  target: string;
  requests: number;
  /** Interface names the requests were seen on. */
  interfaces: string[];
}

/** Everything the rules look at. Rules are pure functions of it. */
export interface DiagnosisInput {
  /** Every connection attempt that did not complete (rejected, synAckLost, unanswered). */
  readonly failedFlows: readonly Flow[];
  /** Interface id → name, for flow.interfaces. */
  readonly interfaceNames: readonly string[];
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
}
