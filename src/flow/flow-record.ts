/**
 * Layout of one flow's record in the FlowStore's Float64Array. Every field is a number:
 * flags are 0/1, optional values use -1 for "absent" (all of them are unsigned when
 * present), sequence numbers are uint32 values.
 *
 * Why one flat record instead of objects: a flow lives for seconds to minutes of capture
 * time, which is millions of allocations later, so per-flow objects all survived the young
 * generation and were collected by full mark-compacts (a third of the run time). A record
 * in a typed array costs the collector nothing.
 *
 * Why this order: on the 2M-packet bench file about 29k flows are open at once (22 MB of
 * records), so the record of a packet's flow is usually not in the CPU caches and the
 * first load from it stalls (perf shows the tracker waiting there, not computing). Every
 * field that a typical packet reads or writes therefore sits in the first 47 words (six
 * cache lines): the hot session fields, then the hot fields of endpoint A, then those of
 * endpoint B. Fields touched only by SYN, FIN, RST, retransmissions or at emission live
 * after them. Before, the hot fields were spread over eight lines.
 *
 * An endpoint's fields are at endpointBase(slot, side) + E.*: the hot ones below
 * Layout.ENDPOINT_HOT, the cold ones at E offsets from Layout.ENDPOINT_COLD_AT, which for
 * endpoint A lands at words 47..58 and for B (based ENDPOINT_HOT words later) at 64..75,
 * both past the hot part.
 *
 * The offsets are `const enum`s (not the usual `as const` objects) so that tsc writes them
 * into the code as literals: as property loads they cost about a quarter of the tracker's
 * time (measured on the 2M-packet bench file).
 */

/** Sizes and offsets of the record's parts (in Float64 words). */
export const enum Layout {
  /** Session fields that most packets touch. */
  SESSION_HOT = 0,
  /** Endpoint A; endpoint B follows at ENDPOINT_A + ENDPOINT_HOT. */
  ENDPOINT_A = 13,
  /** Hot fields per endpoint, and the distance between the two endpoints' bases. */
  ENDPOINT_HOT = 17,
  /** First E offset of an endpoint's cold fields (12 of them, so A's end before B's begin). */
  ENDPOINT_COLD_AT = 34,
  /** Session fields written once (the SYN facts) or read at emission, after the endpoints. */
  SESSION_COLD = 76,
  /** Float64 words per flow record (a multiple of 8: whole cache lines). */
  RECORD_SIZE = 104,
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
  // ---- cold part (Layout.SESSION_COLD) ----
  /** tupleHash() of the flow, for the flow table (read when the flow leaves it). */
  HASH = 76,
  /** 4 or 6. */
  IP_VERSION = 77,
  /** Side + 1 of the endpoint whose bare SYN the SYN_* facts describe; 0 when none. */
  SYN_FROM = 78,
  /** Side + 1 of the endpoint that sent the first SYN-ACK; 0 when none. */
  SYN_ACK_FROM = 79,
  SYN_ACK_AT = 80,
  SYN_AT = 81,
  SYN_ISN = 82,
  SYN_MSS = 83,
  SYN_WSCALE = 84,
  SYN_SACK = 85,
  SYN_TSVAL = 86,
  SYN_TSECR = 87,
  SYN_IP_ID = 88,
  SYN_TTL = 89,
  /**
   * The last segment from each side (A at LAST_A_*, B at LAST_B_* = LAST_A_* + 4), to tell
   * one frame seen on two interfaces (a bridge and the veth behind its port, or `-i any`)
   * from a new segment: time (-1: none), interface, sequence number, and a key of flags,
   * payload length and IP ID.
   */
  LAST_A_AT = 90,
  LAST_A_IFACE = 91,
  LAST_A_SEQ = 92,
  LAST_A_KEY = 93,
  LAST_B_AT = 94,
}

/** Endpoint fields (Zeek's TCP_Endpoint plus synscope's per-side counters): offsets from an endpoint's base. */
export const enum E {
  // ---- hot: below Layout.ENDPOINT_HOT ----
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
  // ---- cold: from Layout.ENDPOINT_COLD_AT ----
  /** SYN+ACK segments sent. */
  SYN_ACKS = 34,
  /** Sequence number of the last SYN-ACK this side sent (valid when SYN_ACKS > 0). */
  SYN_ACK_SEQ = 35,
  /** Sequence number of this side's last bare SYN. */
  LAST_SYN_SEQ = 36,
  /** This side sent a RST while its peer had not completed the handshake. */
  RST_BEFORE_HANDSHAKE = 37,
  FIN_CNT = 38,
  /** Relative sequence numbers of the last SYN / FIN / RST (-1: none), for the repeat rule of s/h, f, r. */
  HIST_LAST_SYN = 39,
  HIST_LAST_FIN = 40,
  HIST_LAST_RST = 41,
  /** Scaled-history counters (Connection::ScaledHistoryEntry) for retransmissions (T) and zero windows (W); each threshold must follow its count. */
  RXMIT_COUNT = 42,
  RXMIT_THRESHOLD = 43,
  ZERO_WIN_COUNT = 44,
  ZERO_WIN_THRESHOLD = 45,
}

/** Base offset of endpoint `side` (0 = A, 1 = B) of the flow at `slot`. */
export function endpointBase(slot: number, side: number): number {
  return slot * Layout.RECORD_SIZE + Layout.ENDPOINT_A + side * Layout.ENDPOINT_HOT;
}
