/**
 * Zeek's conn_state vocabulary (scripts/base/protocols/conn/main.zeek), so results
 * compare with conn.log.
 */
export type ConnState =
  | 'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';

/**
 * Every connection attempt (a flow whose originator sent a SYN) lands in exactly one bucket:
 * completed: the client acknowledged a SYN-ACK;
 * rejected: a RST or an ICMP error answered the SYN;
 * synAckLost: a SYN-ACK was seen but never acknowledged while the client kept retransmitting its SYN;
 * unanswered: nothing came back.
 */
export type AttemptOutcome = 'completed' | 'rejected' | 'synAckLost' | 'unanswered';

/** TCP options of a SYN (null where absent). */
export interface SynOptions {
  mss: number | null;
  windowScale: number | null;
  sackPermitted: boolean;
  tsVal: number | null;
  tsEcr: number | null;
}

/** Who refused a connection attempt. */
export interface Rejection {
  by: 'rst' | 'icmp';
  /** Address that sent the RST or ICMP error (canonical text). */
  from: string;
  /** ICMP / ICMPv6 type and code when by === 'icmp'. */
  icmpType: number | null;
  icmpCode: number | null;
}

/**
 * One TCP connection as the tracker saw it, oriented as Zeek orients it
 * (originator = client). Handed to `onFlow` when it leaves the tracker's table.
 */
export interface Flow {
  /** Stable within one analysis: "f" + creation order (f1, f2, ...). */
  readonly id: string;
  readonly ipVersion: 4 | 6;
  /** Canonical text addresses (IPv6 compressed) and ports. */
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
  state: ConnState;
  /** Zeek history string (originator upper case). */
  history: string;
  /** SYNs (without ACK) the client sent, retransmissions included. */
  syns: number;
  /** SYN-ACKs the server sent, retransmissions included. */
  synAcks: number;
  origPackets: number;
  respPackets: number;
  /** Epoch seconds (fractional). */
  firstSeen: number;
  lastSeen: number;
  firstSynAt: number | null;
  firstSynAckAt: number | null;
  /** Initial sequence number of the client's first SYN, or null. */
  isn: number | null;
  synOptions: SynOptions | null;
  synIpId: number | null;
  synTtl: number | null;
  /** Interface ids (as given to the tracker) that saw packets of this flow, in first-seen order. */
  interfaces: number[];
  /** Bucket of a connection attempt; null when the flow did not start with the client's SYN. */
  outcome: AttemptOutcome | null;
  rejection: Rejection | null;
}

/** The id of the flow created n-th in an analysis ("f" + n). */
export function flowId(ordinal: number): string {
  return `f${ordinal}`;
}

/** The creation order n of a flow id "f<n>". */
export function flowOrdinal(id: string): number {
  return Number(id.slice(1));
}
