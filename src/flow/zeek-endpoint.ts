import { ScaledCounter } from './history';

/**
 * Zeek's TCP endpoint states (scripts/base/init-bare.zeek: TCP_INACTIVE ... TCP_RESET).
 * PARTIAL means "sent data but no initial SYN".
 */
export const EndpointState = {
  INACTIVE: 0,
  SYN_SENT: 1,
  SYN_ACK_SENT: 2,
  PARTIAL: 3,
  ESTABLISHED: 4,
  CLOSED: 5,
  RESET: 6,
} as const;
export type EndpointStateId = (typeof EndpointState)[keyof typeof EndpointState];

/** int32 difference of two uint32 sequence numbers (Zeek's seq_delta): wraps correctly. */
export function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

const TWO32 = 4294967296;

/**
 * One side of a TCP connection: Zeek's TCP_Endpoint (src/analyzer/protocol/tcp/TCP_Endpoint.cc)
 * reduced to what conn_state and history need (no reassembly, no checksums), plus the
 * per-side counters synscope reports. Addresses are kept as words; text is made at the edge.
 */
export class ZeekEndpoint {
  state: EndpointStateId = EndpointState.INACTIVE;
  prevState: EndpointStateId = EndpointState.INACTIVE;
  /** Whether this side is currently the originator (toggled by a role flip). */
  isOrig: boolean;

  startSeq = 0;
  lastSeq = 0;
  ackSeq = 0;
  seqWraps = 0;
  ackWraps = 0;
  finCnt = 0;
  rstCnt = 0;
  didClose = false;
  /** Relative sequence numbers of the last SYN / FIN / RST, for the repeat rule of s/h, f, r. */
  histLastSyn = -1;
  histLastFin = -1;
  histLastRst = -1;
  readonly rxmit = new ScaledCounter();
  readonly zeroWindow = new ScaledCounter();

  // ---- synscope per-side facts ----
  /** Address words (IPv4-mapped for IPv4), kept as numbers: no typed array per flow. */
  a0 = 0;
  a1 = 0;
  a2 = 0;
  a3 = 0;
  port = 0;
  packets = 0;
  /** Bare SYNs (no ACK) sent, retransmissions included. */
  syns = 0;
  /** SYN+ACK segments sent. */
  synAcks = 0;
  /** Kind of this side's first packet: 1 bare SYN, 2 SYN-ACK, 3 other, 0 none yet. */
  firstKind = 0;
  /** Sequence number of the last SYN-ACK this side sent (valid when synAcks > 0). */
  synAckSeq = 0;
  /** This side acknowledged a SYN-ACK of its peer (the handshake's third step). */
  ackedPeerSynAck = false;
  /** Sequence number of this side's last bare SYN. */
  lastSynSeq = 0;
  /** This side sent a RST while its peer had not completed the handshake. */
  rstBeforeHandshake = false;

  constructor(isOrig: boolean) {
    this.isOrig = isOrig;
  }

  setAddress(w: Uint32Array, port: number): void {
    this.a0 = w[0]!;
    this.a1 = w[1]!;
    this.a2 = w[2]!;
    this.a3 = w[3]!;
    this.port = port;
  }

  /** Whether `w`/`port` is this endpoint. */
  is(w: Uint32Array, port: number): boolean {
    return this.port === port && this.a3 === w[3] && this.a2 === w[2] && this.a1 === w[1] && this.a0 === w[0];
  }

  /** The address as words, for formatting at the edge. */
  words(): Uint32Array {
    return new Uint32Array([this.a0, this.a1, this.a2, this.a3]);
  }

  setState(s: EndpointStateId): void {
    if (s !== this.state) {
      this.prevState = this.state;
      this.state = s;
    }
  }

  updateLastSeq(seq: number): void {
    if (seq < this.lastSeq) this.seqWraps++;
    this.lastSeq = seq;
  }

  updateAckSeq(seq: number): void {
    if (seq < this.ackSeq) this.ackWraps++;
    this.ackSeq = seq;
  }

  /** Position of `seq` after `wraps` wraps, relative to the start sequence number. */
  toRelativeSeqSpace(seq: number, wraps: number): number {
    return wraps * TWO32 + seq - this.startSeq;
  }

  /** TCP_Endpoint::NoDataAcked. */
  noDataAcked(): boolean {
    return (this.ackSeq === this.startSeq || this.ackSeq === ((this.startSeq + 1) >>> 0)) && this.ackWraps === 0;
  }

  /**
   * Payload bytes sent (TCP_Endpoint::Size): highest of last seq and ack seq, minus the start,
   * minus the SYN and FIN octets. Only its zero-ness matters here (conn_state's REJ rule).
   */
  size(peer: ZeekEndpoint): number {
    if (
      this.prevState === EndpointState.SYN_SENT &&
      this.state === EndpointState.RESET &&
      peer.state === EndpointState.INACTIVE &&
      !this.noDataAcked()
    ) {
      return 0;
    }
    const last = this.seqWraps * TWO32 + this.lastSeq;
    const ack = this.ackWraps * TWO32 + this.ackSeq;
    let size = (last > ack ? last : ack) - this.startSeq;
    if (size < 0) size = 0;
    if (size !== 0) size--;
    if (this.finCnt > 0 && size !== 0) size--;
    return size;
  }

  /** An endpoint that has sent nothing that made a state (INACTIVE or PARTIAL). */
  inactive(): boolean {
    return this.state === EndpointState.INACTIVE || this.state === EndpointState.PARTIAL;
  }
}
