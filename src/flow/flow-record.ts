/**
 * Layout of one flow's record in the FlowStore's Float64Array: a session part followed by
 * two endpoint parts (A = the sender of the packet that created the flow, B = its peer).
 * Every field is a number: flags are 0/1, optional values use -1 for "absent" (all of them
 * are unsigned when present), sequence numbers are uint32 values.
 *
 * Why one flat record instead of objects: a flow lives for seconds to minutes of capture
 * time, which is millions of allocations later, so per-flow objects all survived the young
 * generation and were collected by full mark-compacts (a third of the run time). A record
 * in a typed array costs the collector nothing and keeps one flow's fields on a few
 * adjacent cache lines: the fields most packets touch come first in each part, the
 * SYN facts (written once, read at emission) last.
 *
 * The offsets are `const enum`s (not the usual `as const` objects) so that tsc writes them
 * into the code as literals: as property loads they cost about a quarter of the tracker's
 * time (measured on the 2M-packet bench file).
 */

/** Sizes and offsets of the record's parts (in Float64 words). */
export const enum Layout {
  /** Session fields that most packets touch. */
  SESSION_HOT = 0,
  /** Endpoint A; endpoint B follows at ENDPOINT_A + ENDPOINT_SIZE. */
  ENDPOINT_A = 16,
  ENDPOINT_SIZE = 32,
  /** Session fields written once (the SYN facts), after the endpoints. */
  SESSION_COLD = 80,
  /** Float64 words per flow record. */
  RECORD_SIZE = 96,
  /** HIST_LEN value of a flow whose history outgrew the inline buffer and lives as a string. */
  HIST_SPILLED = 255,
  /** History letters kept inline per flow (typical histories, e.g. "ShADadFf", are 2 to 10). */
  HIST_INLINE = 24,
}

/** Session fields: offsets from the start of a record. */
export const enum S {
  /** Side (0 = A, 1 = B) that is currently the originator; the other one is the responder. */
  ORIG_SIDE = 0,
  LAST_SEEN = 1,
  FIRST_SEEN = 2,
  /** Zeek's Connection::LastTime: not advanced once both sides closed. */
  LAST_TIME = 3,
  /** Creation order number (flow id "f<n>"); 0 while the record is free. */
  SEQ_NO = 4,
  /** Zeek's is_active (cleared when the connection is reported finished or reset). */
  ACTIVE = 5,
  /** Zeek timers as absolute times, -1 when not armed. */
  DELETE_AT = 6,
  RESET_AT = 7,
  ATTEMPT_AT = 8,
  /** First interface id that saw the flow (-1 before the first packet); others live in a side map. */
  IFACE0 = 9,
  /** History letters already recorded, as in History.seen (orig low 16 bits, resp high 16). */
  HIST_SEEN = 10,
  /** Number of history letters in the store's inline buffer, or HIST_SPILLED. */
  HIST_LEN = 11,
  /** First packet was a SYN-ACK from the (unflipped) originator: candidate for the PR #2191 flip. */
  BEGAN_WITH_SYN_ACK = 12,
  /** 4 or 6. */
  IP_VERSION = 13,
  /** tupleHash() of the flow, for the flow table. */
  HASH = 14,
  /** Side + 1 of the endpoint whose bare SYN the SYN_* facts describe; 0 when none. */
  SYN_FROM = 15,
  // ---- cold part (Layout.SESSION_COLD) ----
  /** Side + 1 of the endpoint that sent the first SYN-ACK; 0 when none. */
  SYN_ACK_FROM = 80,
  SYN_ACK_AT = 81,
  SYN_AT = 82,
  SYN_ISN = 83,
  SYN_MSS = 84,
  SYN_WSCALE = 85,
  SYN_SACK = 86,
  SYN_TSVAL = 87,
  SYN_TSECR = 88,
  SYN_IP_ID = 89,
  SYN_TTL = 90,
}

/** Endpoint fields (Zeek's TCP_Endpoint plus synscope's per-side counters): offsets from an endpoint's base. */
export const enum E {
  /** EndpointState. */
  STATE = 0,
  PREV_STATE = 1,
  START_SEQ = 2,
  LAST_SEQ = 3,
  ACK_SEQ = 4,
  SEQ_WRAPS = 5,
  ACK_WRAPS = 6,
  DID_CLOSE = 7,
  /** Address as 4 words (IPv4-mapped for IPv4; word 3 first: it tells most flows apart), and the port. */
  A3 = 8,
  PORT = 9,
  A0 = 10,
  A1 = 11,
  A2 = 12,
  PACKETS = 13,
  /** Bare SYNs (no ACK) sent, retransmissions included. */
  SYNS = 14,
  /** Kind of this side's first packet: 1 bare SYN, 2 SYN-ACK, 3 other, 0 none yet. */
  FIRST_KIND = 15,
  /** This side acknowledged a SYN-ACK of its peer (the handshake's third step). */
  ACKED_PEER_SYN_ACK = 16,
  /** SYN+ACK segments sent. */
  SYN_ACKS = 17,
  /** Sequence number of the last SYN-ACK this side sent (valid when SYN_ACKS > 0). */
  SYN_ACK_SEQ = 18,
  /** Sequence number of this side's last bare SYN. */
  LAST_SYN_SEQ = 19,
  /** This side sent a RST while its peer had not completed the handshake. */
  RST_BEFORE_HANDSHAKE = 20,
  FIN_CNT = 21,
  /** Relative sequence numbers of the last SYN / FIN / RST (-1: none), for the repeat rule of s/h, f, r. */
  HIST_LAST_SYN = 22,
  HIST_LAST_FIN = 23,
  HIST_LAST_RST = 24,
  /** Scaled-history counters (Connection::ScaledHistoryEntry) for retransmissions (T) and zero windows (W). */
  RXMIT_COUNT = 25,
  RXMIT_THRESHOLD = 26,
  ZERO_WIN_COUNT = 27,
  ZERO_WIN_THRESHOLD = 28,
}

/** Base offset of endpoint `side` (0 = A, 1 = B) of the flow at `slot`. */
export function endpointBase(slot: number, side: number): number {
  return slot * Layout.RECORD_SIZE + Layout.ENDPOINT_A + side * Layout.ENDPOINT_SIZE;
}
