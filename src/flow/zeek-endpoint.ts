import { E } from './flow-record';

/**
 * Zeek's TCP endpoint states (scripts/base/init-bare.zeek: TCP_INACTIVE ... TCP_RESET).
 * PARTIAL means "sent data but no initial SYN". A `const enum` so that the values are
 * literals in the per-packet code (see flow-record.ts).
 */
export const enum EndpointState {
  INACTIVE = 0,
  SYN_SENT = 1,
  SYN_ACK_SENT = 2,
  PARTIAL = 3,
  ESTABLISHED = 4,
  CLOSED = 5,
  RESET = 6,
}
export type EndpointStateId = EndpointState;

/** int32 difference of two uint32 sequence numbers (Zeek's seq_delta): wraps correctly. */
export function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

const TWO32 = 4294967296;

/*
 * One side of a TCP connection: Zeek's TCP_Endpoint (src/analyzer/protocol/tcp/TCP_Endpoint.cc)
 * reduced to what conn_state and history need (no reassembly, no checksums), plus the
 * per-side counters synscope reports. The fields live in the flow record (E.* in
 * flow-record.ts); these functions take the record's int and uint views and the endpoint's base offset.
 */

/** TCP_Endpoint::SetState: remembers the previous state on a change. */
export function setState(i: Int32Array, e: number, state: EndpointStateId): void {
  const cur = i[e + E.STATE]!;
  if (state !== cur) {
    i[e + E.PREV_STATE] = cur;
    i[e + E.STATE] = state;
  }
}

export function updateLastSeq(i: Int32Array, u: Uint32Array, e: number, seq: number): void {
  if (seq < u[e + E.LAST_SEQ]!) i[e + E.SEQ_WRAPS]++;
  u[e + E.LAST_SEQ] = seq;
}

export function updateAckSeq(i: Int32Array, u: Uint32Array, e: number, seq: number): void {
  if (seq < u[e + E.ACK_SEQ]!) i[e + E.ACK_WRAPS]++;
  u[e + E.ACK_SEQ] = seq;
}

/** Position of `seq` after `wraps` wraps, relative to the start sequence number. */
export function toRelativeSeqSpace(u: Uint32Array, e: number, seq: number, wraps: number): number {
  return wraps * TWO32 + seq - u[e + E.START_SEQ]!;
}

/** TCP_Endpoint::NoDataAcked. */
function noDataAcked(i: Int32Array, u: Uint32Array, e: number): boolean {
  const ack = u[e + E.ACK_SEQ]!;
  const start = u[e + E.START_SEQ]!;
  return (ack === start || ack === ((start + 1) >>> 0)) && i[e + E.ACK_WRAPS] === 0;
}

/**
 * Payload bytes sent (TCP_Endpoint::Size) by the endpoint at `e` whose peer is at `p`:
 * highest of last seq and ack seq, minus the start, minus the SYN and FIN octets. Only its
 * zero-ness matters here (conn_state's REJ rule).
 */
export function endpointSize(i: Int32Array, u: Uint32Array, e: number, p: number): number {
  if (
    i[e + E.PREV_STATE] === EndpointState.SYN_SENT &&
    i[e + E.STATE] === EndpointState.RESET &&
    i[p + E.STATE] === EndpointState.INACTIVE &&
    !noDataAcked(i, u, e)
  ) {
    return 0;
  }
  const last = i[e + E.SEQ_WRAPS]! * TWO32 + u[e + E.LAST_SEQ]!;
  const ack = i[e + E.ACK_WRAPS]! * TWO32 + u[e + E.ACK_SEQ]!;
  let size = (last > ack ? last : ack) - u[e + E.START_SEQ]!;
  if (size < 0) size = 0;
  if (size !== 0) size--;
  if (i[e + E.FIN_CNT]! > 0 && size !== 0) size--;
  return size;
}

/** An endpoint that has sent nothing that made a state (INACTIVE or PARTIAL). */
export function endpointInactive(i: Int32Array, e: number): boolean {
  const s = i[e + E.STATE];
  return s === EndpointState.INACTIVE || s === EndpointState.PARTIAL;
}
