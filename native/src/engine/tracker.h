/*
 * Port of src/flow/{tracker,tcp-session,history,zeek-endpoint,flow-record,flow-store,
 * flow-table,deadline-heap,interface-copy,evicted-attempts,conn-state}.ts.
 * Flow records keep the 512-byte layout of flow-record.ts (same word offsets), so the
 * record memory could be handed to JS as an ArrayBuffer and read by FlowView unchanged.
 */
#ifndef SYNSCOPE_TRACKER_H
#define SYNSCOPE_TRACKER_H
#include <stdint.h>
#include "decode.h"

/* Layout */
#define RECORD_BYTES 512
#define WIDE_WORDS 64
#define WORDS 128
#define ENDPOINT_A 34
#define ENDPOINT_HOT 15
#define ENDPOINT_A_WIDE 52
#define ENDPOINT_WIDE 3
#define HIST_AT 464
#define HIST_SPILLED 255
#define HIST_INLINE 24

/* W: wide (double) session fields */
enum { W_LAST_SEEN = 0, W_FIRST_SEEN = 1, W_LAST_TIME = 2, W_DELETE_AT = 3, W_RESET_AT = 4, W_ATTEMPT_AT = 5,
       W_SEQ_NO = 6, W_PACKETS_A = 7, W_LAST_A_AT = 9, W_LAST_A_KEY = 10, W_SYN_AT = 48, W_SYN_ACK_AT = 49,
       W_SYN_TSVAL = 50, W_SYN_TSECR = 51 };
/* S: 32-bit session fields */
enum { S_ORIG_SIDE = 26, S_IFACE0 = 27, S_HIST_SEEN = 28, S_BEGAN_WITH_SYN_ACK = 29, S_LAST_A_IFACE = 30,
       S_LAST_A_SEQ = 31, S_ACTIVE = 75, S_HASH = 76, S_IP_VERSION = 77, S_SYN_FROM = 78, S_SYN_ACK_FROM = 89,
       S_SYN_MSS = 90, S_SYN_WSCALE = 91, S_SYN_SACK = 92, S_SYN_IP_ID = 93, S_SYN_TTL = 94, S_SYN_ISN = 95,
       S_HIST_LEN = 122 };
/* E: endpoint 32-bit fields from endpointBase */
enum { E_STATE = 0, E_START_SEQ = 1, E_LAST_SEQ = 2, E_ACK_SEQ = 3, E_SEQ_WRAPS = 4, E_ACK_WRAPS = 5,
       E_DID_CLOSE = 6, E_A3 = 7, E_PORT = 8, E_A0 = 9, E_A1 = 10, E_A2 = 11, E_SYNS = 12, E_FIRST_KIND = 13,
       E_ACKED_PEER_SYN_ACK = 14, E_PREV_STATE = 30, E_SYN_ACKS = 31, E_SYN_ACK_SEQ = 32, E_LAST_SYN_SEQ = 33,
       E_RST_BEFORE_HANDSHAKE = 34, E_FIN_CNT = 35, E_RXMIT_COUNT = 36, E_RXMIT_THRESHOLD = 37,
       E_ZERO_WIN_COUNT = 38, E_ZERO_WIN_THRESHOLD = 39 };
enum { EW_HIST_LAST_SYN = 0, EW_HIST_LAST_FIN = 1, EW_HIST_LAST_RST = 2 };

enum { ST_INACTIVE = 0, ST_SYN_SENT = 1, ST_SYN_ACK_SENT = 2, ST_PARTIAL = 3, ST_ESTABLISHED = 4, ST_CLOSED = 5,
       ST_RESET = 6 };

static inline int endpoint_base(int slot, int side) { return slot * WORDS + ENDPOINT_A + side * ENDPOINT_HOT; }
static inline int endpoint_wide_base(int slot, int side) {
  return slot * WIDE_WORDS + ENDPOINT_A_WIDE + side * ENDPOINT_WIDE;
}

typedef struct Tracker Tracker;

/** The flow leaving the tracker: read it through the accessors below (valid during the call). */
typedef void (*FlowSink)(Tracker *t, int slot, void *ctx);

typedef struct {
  int zeekTimers;
  double closeDelay, attemptIdleTimeout, idleTimeout;
  int maxLiveFlows;
  /** NULL: DEFAULT_LIKELY_SERVER_PORTS */
  const int *likelyServerPorts;
  int likelyCount;
} TrackerOptions;

/** IcmpAnswer of flow-store.ts (store.icmp entry). */
typedef struct {
  int present, quotedSide, fromVersion, type, code;
  uint32_t from[4];
} IcmpAnswer;

Tracker *tracker_new(const TrackerOptions *o, FlowSink sink, void *ctx);
void tracker_add(Tracker *t, const Pkt *p, const uint8_t *buf, int bufLen, double time, int iface);
/** Ends the tracker a part at a time: emits at most max of the flows still live, in creation
 * order, and returns how many are left; call again until 0. */
int tracker_finish_step(Tracker *t, int max);
void tracker_free(Tracker *t);

/* record access for sinks */
double *tracker_wide(Tracker *t);
int32_t *tracker_int(Tracker *t);
uint32_t *tracker_uint(Tracker *t);
/** History letters of the flow at slot into out (NUL-terminated); returns its length. */
int tracker_history(Tracker *t, int slot, char *out, int cap);
int tracker_history_length(Tracker *t, int slot);
const char *conn_state(Tracker *t, int slot, const char *history);
const uint8_t *tracker_record(Tracker *t, int slot);
/** The history of a flow whose HIST_LEN is HIST_SPILLED (not NUL-terminated), else NULL. */
const char *tracker_spilled_history(Tracker *t, int slot, int *len);
/** store.interfaces entry of the slot, or NULL (n = 0). */
const int *tracker_interfaces(Tracker *t, int slot, int *n);
/** store.icmp entry of the slot, or NULL. */
const IcmpAnswer *tracker_icmp(Tracker *t, int slot);
/** Flows currently held. */
int tracker_size(Tracker *t);
/** pressure counters */
void tracker_pressure(Tracker *t, double *endedEarly, double *synRetransmissionsAfter, double *answersAfter);

#endif
