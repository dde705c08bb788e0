/**
 * Layout of one flow's record in the FlowStore: 512 bytes of one ArrayBuffer, read through
 * three views of it. Times, and the few values that need more than 32 bits, are Float64
 * "wide" words (W.*, EW.*); everything else is a 32-bit word (S.*, E.*), read through the
 * Int32Array (flags, states, counters, -1 for "absent") or, for the fields marked "uint",
 * through the Uint32Array (sequence numbers, address words, the history mask): those are
 * uint32 values, and none of them uses -1 for "absent".
 * Wide: SEQ_NO and PACKETS can pass 2^31 in a long live run; LAST_*_KEY is a 41-bit key;
 * SYN_TSVAL/SYN_TSECR are uint32 that use -1 for "absent"; the HIST_LAST_* relative
 * sequence numbers count sequence wraps (beyond 2^32). Counters kept as 32 bits (SYNS,
 * SYN_ACKS, FIN_CNT, the scaled-history counts) cannot reach 2^31 in one flow in practice.
 *
 * Why one flat record instead of objects: a flow lives for seconds to minutes of capture
 * time, which is millions of allocations later, so per-flow objects all survived the young
 * generation and were collected by full mark-compacts (a third of the run time). A record
 * in a typed array costs the collector nothing.
 *
 * Why this order: on the 2M-packet bench file about 29k flows are open at once, so the
 * record of a packet's flow is usually not in the CPU caches and the first load from it
 * stalls (perf shows the tracker waiting there, not computing). Every field that a typical
 * packet reads or writes therefore sits in the first 256 bytes (four cache lines): the hot
 * wide fields, the hot session words, then the hot words of endpoint A and of endpoint B.
 * Fields touched only by SYN, FIN, RST, state changes, retransmissions or at emission live
 * after them, and the history letters (bytes at Layout.HIST_AT) share the last line with
 * their count. Before, records were 104 Float64 words (832 bytes) and a packet touched six
 * or seven of their cache lines.
 *
 * An endpoint's 32-bit fields are at endpointBase(slot, side) + E.*: the hot ones below
 * Layout.ENDPOINT_HOT, the cold ones at E offsets from Layout.ENDPOINT_COLD_AT, which for
 * endpoint A lands at words 64..73 and for B (based ENDPOINT_HOT words later) at 79..88,
 * both past the hot part. Its wide fields are at endpointWideBase(slot, side) + EW.*.
 *
 * The offsets are `const enum`s (not the usual `as const` objects) so that tsc writes them
 * into the code as literals: as property loads they cost about a quarter of the tracker's
 * time (measured on the 2M-packet bench file).
 */

/** Sizes and offsets of the record's parts. */
export const enum Layout {
  /** Bytes per flow record (whole cache lines). */
  RECORD_BYTES = 512,
  /** Float64 words per record: the stride of the wide view. */
  WIDE_WORDS = 64,
  /** 32-bit words per record: the stride of the int and uint views. */
  WORDS = 128,
  /** Endpoint A's 32-bit fields; endpoint B's follow at ENDPOINT_A + ENDPOINT_HOT. */
  ENDPOINT_A = 34,
  /** Hot 32-bit fields per endpoint, and the distance between the two endpoints' bases. */
  ENDPOINT_HOT = 15,
  /** First E offset of an endpoint's cold fields (10 of them, so A's end before B's begin). */
  ENDPOINT_COLD_AT = 30,
  /** Endpoint A's wide fields (wide word in the record); B's follow at ENDPOINT_A_WIDE + ENDPOINT_WIDE. */
  ENDPOINT_A_WIDE = 52,
  ENDPOINT_WIDE = 3,
  /** Byte offset of the inline history letters in the record. */
  HIST_AT = 464,
  /** HIST_LEN value of a flow whose history outgrew the inline buffer and lives as a string. */
  HIST_SPILLED = 255,
  /** History letters kept inline per flow (typical histories, e.g. "ShADadFf", are 2 to 10). */
  HIST_INLINE = 24,
}

/** Wide session fields: Float64 words from the start of a record. */
export const enum W {
  LAST_SEEN = 0,
  FIRST_SEEN = 1,
  /** Zeek's Connection::LastTime: not advanced once both sides closed. */
  LAST_TIME = 2,
  /** Zeek timers as absolute times, -1 when not armed. */
  DELETE_AT = 3,
  RESET_AT = 4,
  ATTEMPT_AT = 5,
  /** Creation order number (flow id "f<n>"); 0 while the record is free. */
  SEQ_NO = 6,
  /** Packets sent by side A; side B's at PACKETS_A + 1. */
  PACKETS_A = 7,
  /**
   * The last segment from each side (A at LAST_A_*, B at LAST_A_* + 2), to tell one frame
   * seen on two interfaces (a bridge and the veth behind its port, or `-i any`) from a new
   * segment: time (-1: none) and a key of flags, payload length and IP ID here, interface
   * and sequence number in S.LAST_A_IFACE / S.LAST_A_SEQ.
   */
  LAST_A_AT = 9,
  LAST_A_KEY = 10,
  // ---- cold, from word 48 ----
  SYN_AT = 48,
  SYN_ACK_AT = 49,
  /** uint32, -1 when absent. */
  SYN_TSVAL = 50,
  SYN_TSECR = 51,
}

/** 32-bit session fields: words from the start of a record ("uint": read through the Uint32Array). */
export const enum S {
  // ---- hot, after the 13 hot wide words ----
  /** Side (0 = A, 1 = B) that is currently the originator; the other one is the responder. */
  ORIG_SIDE = 26,
  /** First interface id that saw the flow (-1 before the first packet); others live in a side map. */
  IFACE0 = 27,
  /** uint. History letters already recorded, as in History.seen (orig low 16 bits, resp high 16). */
  HIST_SEEN = 28,
  /** First packet was a SYN-ACK from the (unflipped) originator: candidate for the PR #2191 flip. */
  BEGAN_WITH_SYN_ACK = 29,
  /** Interface and (uint) sequence number of side A's last segment (W.LAST_A_AT); side B's at + 2. */
  LAST_A_IFACE = 30,
  LAST_A_SEQ = 31,
  // ---- cold ----
  /** Zeek's is_active (cleared when the connection is reported finished or reset). */
  ACTIVE = 75,
  /** tupleHash() of the flow, for the flow table (read when the flow leaves it). */
  HASH = 76,
  /** 4 or 6. */
  IP_VERSION = 77,
  /** Side + 1 of the endpoint whose bare SYN the SYN_* facts describe; 0 when none. */
  SYN_FROM = 78,
  /** Side + 1 of the endpoint that sent the first SYN-ACK; 0 when none. */
  SYN_ACK_FROM = 89,
  SYN_MSS = 90,
  SYN_WSCALE = 91,
  SYN_SACK = 92,
  SYN_IP_ID = 93,
  SYN_TTL = 94,
  /** uint; valid when SYN_FROM is not 0. */
  SYN_ISN = 95,
  /** Number of history letters at Layout.HIST_AT, or Layout.HIST_SPILLED (beside the letters: byte 488). */
  HIST_LEN = 122,
}

/** Endpoint fields (Zeek's TCP_Endpoint plus synscope's per-side counters): 32-bit words from an endpoint's base. */
export const enum E {
  // ---- hot: below Layout.ENDPOINT_HOT ----
  /** EndpointState. */
  STATE = 0,
  /** uint. */
  START_SEQ = 1,
  /** uint. */
  LAST_SEQ = 2,
  /** uint. */
  ACK_SEQ = 3,
  SEQ_WRAPS = 4,
  ACK_WRAPS = 5,
  DID_CLOSE = 6,
  /** uint. Address as 4 words (IPv4-mapped for IPv4; word 3 first: it tells most flows apart), and the port. */
  A3 = 7,
  PORT = 8,
  A0 = 9,
  A1 = 10,
  A2 = 11,
  /** Bare SYNs (no ACK) sent, retransmissions included. */
  SYNS = 12,
  /** Kind of this side's first packet: 1 bare SYN, 2 SYN-ACK, 3 other, 0 none yet. */
  FIRST_KIND = 13,
  /** This side acknowledged a SYN-ACK of its peer (the handshake's third step). */
  ACKED_PEER_SYN_ACK = 14,
  // ---- cold: from Layout.ENDPOINT_COLD_AT ----
  PREV_STATE = 30,
  /** SYN+ACK segments sent. */
  SYN_ACKS = 31,
  /** uint. Sequence number of the last SYN-ACK this side sent (valid when SYN_ACKS > 0). */
  SYN_ACK_SEQ = 32,
  /** uint. Sequence number of this side's last bare SYN. */
  LAST_SYN_SEQ = 33,
  /** This side sent a RST while its peer had not completed the handshake. */
  RST_BEFORE_HANDSHAKE = 34,
  FIN_CNT = 35,
  /** Scaled-history counters (Connection::ScaledHistoryEntry) for retransmissions (T) and zero windows (W); each threshold must follow its count. */
  RXMIT_COUNT = 36,
  RXMIT_THRESHOLD = 37,
  ZERO_WIN_COUNT = 38,
  ZERO_WIN_THRESHOLD = 39,
}

/** Wide endpoint fields: Float64 words from endpointWideBase(). */
export const enum EW {
  /** Relative sequence numbers of the last SYN / FIN / RST (-1: none), for the repeat rule of s/h, f, r. */
  HIST_LAST_SYN = 0,
  HIST_LAST_FIN = 1,
  HIST_LAST_RST = 2,
}

/** Base (32-bit word) of endpoint `side` (0 = A, 1 = B) of the flow at `slot`. */
export function endpointBase(slot: number, side: number): number {
  return slot * Layout.WORDS + Layout.ENDPOINT_A + side * Layout.ENDPOINT_HOT;
}

/** Base (wide word) of the wide fields of endpoint `side` of the flow at `slot`. */
export function endpointWideBase(slot: number, side: number): number {
  return slot * Layout.WIDE_WORDS + Layout.ENDPOINT_A_WIDE + side * Layout.ENDPOINT_WIDE;
}
