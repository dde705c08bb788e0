/*
 * FlowTracker and TCP session logic, ported line by line from src/flow/ (*.ts) (see tracker.h).
 * The side maps of FlowStore (histSpill, interfaces, icmp) are per-slot C arrays here.
 */
#define _GNU_SOURCE
#include "tracker.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ZEEK_TCP_ATTEMPT_DELAY 5.0
#define ZEEK_TCP_CLOSE_DELAY 5.0
#define ZEEK_TCP_RESET_DELAY 5.0
#define ZEEK_TCP_INACTIVITY_TIMEOUT 300.0
#define TOO_LARGE_SEQ_DELTA 1048576
#define COPY_WINDOW_SECONDS 0.05
#define TWO32 4294967296.0
#define EVICTED_MEMORY_SLOTS (1 << 19)

enum { H_SYN_PKT = 0x1, H_FIN_PKT = 0x2, H_RST_PKT = 0x4, H_FIN_RST_PKT = 0x8, H_DATA_PKT = 0x10, H_ACK_PKT = 0x20,
       H_MULTI_FLAG_PKT = 0x40 };
enum { LT_S = 0x53, LT_H = 0x48, LT_A = 0x41, LT_D = 0x44, LT_F = 0x46, LT_R = 0x52, LT_I = 0x49, LT_Q = 0x51,
       LT_T = 0x54, LT_W = 0x57, LT_FLIP = 0x5e };

typedef struct {
  char *p;
  int len, cap;
} Spill;

/* store.interfaces entry: all interface ids of a flow seen on several, first-seen order */
typedef struct {
  int *ids;
  int n, cap;
} Ifaces;

struct Tracker {
  /* finish: the flows still live, in creation order, and how many were emitted */
  int *finishing;
  int finishingCount, finished;
  /* options */
  FlowSink sink;
  void *ctx;
  int zeekTimers;
  uint8_t likely[65536];
  double closeDelay, attemptIdle, idle;
  int maxLive;
  /* FlowStore */
  uint8_t *mem;
  double *w;
  int32_t *r;
  uint32_t *u;
  size_t memBytes;
  int capacity, used;
  int *freeList;
  int freeCount;
  Spill *spill; /* histSpill, per slot */
  int spillCount;
  Ifaces *ifaces; /* store.interfaces, per slot (n == 0: none) */
  int ifacesCount;
  IcmpAnswer *icmp; /* store.icmp, per slot (present == 0: none) */
  int icmpCount;
  /* FlowTable */
  int32_t *cells;
  uint32_t mask;
  int count;
  /* DeadlineHeap */
  double *htimes, *horders;
  int32_t *hslots, *hpos;
  int hn, hcap, hposCap;
  /* tracker */
  double now;
  double created;
  /* evicted attempts */
  uint32_t *evKeys;
  uint8_t *evUsed;
  double endedEarly, synRetransmissionsAfter, answersAfter;
};

static const int DEFAULT_LIKELY_SERVER_PORTS[] = {
  21, 22, 23, 25, 53, 80, 88, 110, 111, 135, 139, 143, 389, 443, 445, 465, 502, 587, 636, 993, 995, 1080,
  1433, 1521, 1883, 2049, 2375, 2376, 2379, 2380, 3128, 3268, 3306, 3389, 5060, 5432, 5672, 5900, 6379, 6443,
  6666, 6667, 6668, 6669, 8000, 8080, 8443, 8888, 9092, 9200, 10250, 11211, 27017,
};

static void *xcalloc(size_t n, size_t s) {
  void *p = calloc(n, s);
  if (p == NULL) {
    perror("calloc");
    exit(2);
  }
  return p;
}

/* ------------------------------------------------------------------ zeek-endpoint.ts */

static inline int32_t seq_delta(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

static inline void set_state(int32_t *i, int e, int state) {
  int cur = i[e + E_STATE];
  if (state != cur) {
    i[e + E_PREV_STATE] = cur;
    i[e + E_STATE] = state;
  }
}

static inline void update_last_seq(int32_t *i, uint32_t *u, int e, uint32_t seq) {
  if (seq < u[e + E_LAST_SEQ]) i[e + E_SEQ_WRAPS]++;
  u[e + E_LAST_SEQ] = seq;
}

static inline void update_ack_seq(int32_t *i, uint32_t *u, int e, uint32_t seq) {
  if (seq < u[e + E_ACK_SEQ]) i[e + E_ACK_WRAPS]++;
  u[e + E_ACK_SEQ] = seq;
}

static inline double to_relative_seq_space(uint32_t *u, int e, uint32_t seq, int wraps) {
  return wraps * TWO32 + seq - u[e + E_START_SEQ];
}

static int no_data_acked(int32_t *i, uint32_t *u, int e) {
  uint32_t ack = u[e + E_ACK_SEQ];
  uint32_t start = u[e + E_START_SEQ];
  return (ack == start || ack == start + 1) && i[e + E_ACK_WRAPS] == 0;
}

static double endpoint_size(int32_t *i, uint32_t *u, int e, int p) {
  if (i[e + E_PREV_STATE] == ST_SYN_SENT && i[e + E_STATE] == ST_RESET && i[p + E_STATE] == ST_INACTIVE &&
      !no_data_acked(i, u, e))
    return 0;
  double last = i[e + E_SEQ_WRAPS] * TWO32 + u[e + E_LAST_SEQ];
  double ack = i[e + E_ACK_WRAPS] * TWO32 + u[e + E_ACK_SEQ];
  double size = (last > ack ? last : ack) - u[e + E_START_SEQ];
  if (size < 0) size = 0;
  if (size != 0) size--;
  if (i[e + E_FIN_CNT] > 0 && size != 0) size--;
  return size;
}

static inline int endpoint_inactive(int32_t *i, int e) {
  int s = i[e + E_STATE];
  return s == ST_INACTIVE || s == ST_PARTIAL;
}

/* ------------------------------------------------------------------ flow-store.ts */

static void store_init(Tracker *t) {
  t->capacity = t->maxLive;
  t->memBytes = (size_t)t->capacity * RECORD_BYTES;
  /* Like hugePageArrayBuffer: reserved at the bound, zero pages faulted in on first touch. */
  void *m = mmap(NULL, t->memBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    perror("mmap");
    exit(2);
  }
  madvise(m, t->memBytes, MADV_HUGEPAGE);
  t->mem = m;
  t->w = (double *)m;
  t->r = (int32_t *)m;
  t->u = (uint32_t *)m;
  t->freeList = xcalloc(t->capacity, sizeof(int));
  t->spill = xcalloc(t->capacity, sizeof(Spill));
  t->ifaces = xcalloc(t->capacity, sizeof(Ifaces));
  t->icmp = xcalloc(t->capacity, sizeof(IcmpAnswer));
}

static void store_init_endpoint(Tracker *t, int e, int ew, const uint32_t *a, int port) {
  int32_t *i = t->r;
  uint32_t *u = t->u;
  double *wide = t->w;
  i[e + E_STATE] = ST_INACTIVE;
  i[e + E_PREV_STATE] = ST_INACTIVE;
  u[e + E_START_SEQ] = 0;
  u[e + E_LAST_SEQ] = 0;
  u[e + E_ACK_SEQ] = 0;
  i[e + E_SEQ_WRAPS] = 0;
  i[e + E_ACK_WRAPS] = 0;
  i[e + E_FIN_CNT] = 0;
  i[e + E_DID_CLOSE] = 0;
  wide[ew + EW_HIST_LAST_SYN] = -1;
  wide[ew + EW_HIST_LAST_FIN] = -1;
  wide[ew + EW_HIST_LAST_RST] = -1;
  i[e + E_RXMIT_COUNT] = 0;
  i[e + E_RXMIT_THRESHOLD] = 1;
  i[e + E_ZERO_WIN_COUNT] = 0;
  i[e + E_ZERO_WIN_THRESHOLD] = 1;
  u[e + E_A0] = a[0];
  u[e + E_A1] = a[1];
  u[e + E_A2] = a[2];
  u[e + E_A3] = a[3];
  i[e + E_PORT] = port;
  i[e + E_SYNS] = 0;
  i[e + E_SYN_ACKS] = 0;
  i[e + E_FIRST_KIND] = 0;
  u[e + E_SYN_ACK_SEQ] = 0;
  i[e + E_ACKED_PEER_SYN_ACK] = 0;
  u[e + E_LAST_SYN_SEQ] = 0;
  i[e + E_RST_BEFORE_HANDSHAKE] = 0;
}

static int store_take_slot(Tracker *t) {
  if (t->freeCount > 0) return t->freeList[--t->freeCount];
  if (t->used == t->capacity) {
    /* bounded store: the tracker ends a flow early before this can happen */
    fprintf(stderr, "flow store full\n");
    exit(2);
  }
  return t->used++;
}

static int store_allocate(Tracker *t, double seqNo, int ipVersion, const uint32_t *src, int sport, const uint32_t *dst,
                          int dport, double time) {
  int slot = store_take_slot(t);
  double *w = t->w;
  int32_t *i = t->r;
  int sw = slot * WIDE_WORDS;
  int s = slot * WORDS;
  w[sw + W_SEQ_NO] = seqNo;
  w[sw + W_FIRST_SEEN] = time;
  w[sw + W_LAST_SEEN] = time;
  w[sw + W_LAST_TIME] = time;
  w[sw + W_ATTEMPT_AT] = -1;
  w[sw + W_DELETE_AT] = -1;
  w[sw + W_RESET_AT] = -1;
  w[sw + W_PACKETS_A] = 0;
  w[sw + W_PACKETS_A + 1] = 0;
  w[sw + W_LAST_A_AT] = -1;
  w[sw + W_LAST_A_AT + 2] = -1;
  w[sw + W_SYN_AT] = -1;
  w[sw + W_SYN_ACK_AT] = -1;
  w[sw + W_SYN_TSVAL] = -1;
  w[sw + W_SYN_TSECR] = -1;
  i[s + S_IP_VERSION] = ipVersion;
  i[s + S_HASH] = 0;
  i[s + S_ORIG_SIDE] = 0;
  i[s + S_ACTIVE] = 1;
  i[s + S_BEGAN_WITH_SYN_ACK] = 0;
  i[s + S_IFACE0] = -1;
  i[s + S_HIST_SEEN] = 0;
  i[s + S_HIST_LEN] = 0;
  i[s + S_SYN_FROM] = 0;
  i[s + S_SYN_ISN] = 0;
  i[s + S_SYN_MSS] = -1;
  i[s + S_SYN_WSCALE] = -1;
  i[s + S_SYN_SACK] = 0;
  i[s + S_SYN_IP_ID] = -1;
  i[s + S_SYN_TTL] = -1;
  i[s + S_SYN_ACK_FROM] = 0;
  int a = s + ENDPOINT_A;
  store_init_endpoint(t, a, endpoint_wide_base(slot, 0), src, sport);
  store_init_endpoint(t, a + ENDPOINT_HOT, endpoint_wide_base(slot, 1), dst, dport);
  return slot;
}

static void store_release(Tracker *t, int slot) {
  t->w[slot * WIDE_WORDS + W_SEQ_NO] = 0;
  if (t->spillCount > 0 && t->spill[slot].len > 0) {
    t->spill[slot].len = 0;
    t->spillCount--;
  }
  if (t->ifacesCount > 0 && t->ifaces[slot].n > 0) {
    t->ifaces[slot].n = 0;
    t->ifacesCount--;
  }
  if (t->icmpCount > 0 && t->icmp[slot].present) {
    t->icmp[slot].present = 0;
    t->icmpCount--;
  }
  t->freeList[t->freeCount++] = slot;
}

static inline int endpoint_is(Tracker *t, int e, const uint32_t *a, int port) {
  uint32_t *u = t->u;
  return t->r[e + E_PORT] == port && u[e + E_A3] == a[3] && u[e + E_A2] == a[2] && u[e + E_A1] == a[1] &&
         u[e + E_A0] == a[0];
}

/* ------------------------------------------------------------------ flow-table.ts */

static inline uint32_t endpoint_key(const uint32_t *w, uint32_t port) {
  return ((w[3] ^ (port << 16) ^ port) * 0x9e3779b1u) ^ (w[2] * 0x85ebca77u) ^ (w[1] * 0xc2b2ae3du) ^
         (w[0] * 0x27d4eb2fu);
}

static inline uint32_t fmix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

static inline int32_t tuple_hash(const uint32_t *src, int sport, const uint32_t *dst, int dport) {
  return (int32_t)(fmix(endpoint_key(src, sport) + endpoint_key(dst, dport)) & 0x7fffffffu);
}

static int32_t *empty_cells(uint32_t buckets) {
  int32_t *c = malloc(sizeof(int32_t) * 2 * buckets);
  for (uint32_t i = 0; i < buckets; i++) {
    c[2 * i] = 0;
    c[2 * i + 1] = -1;
  }
  return c;
}

static void table_init(Tracker *t, int initialCapacity) {
  uint32_t cap = 16;
  while (cap < (uint32_t)initialCapacity * 2) cap *= 2;
  t->cells = empty_cells(cap);
  t->mask = cap - 1;
  t->count = 0;
}

static inline int table_matches(Tracker *t, int slot, const uint32_t *src, int sport, const uint32_t *dst, int dport) {
  int32_t *r = t->r;
  uint32_t *u = t->u;
  int a = slot * WORDS + ENDPOINT_A;
  int b = a + ENDPOINT_HOT;
  uint32_t s3 = src[3], d3 = dst[3];
  if (u[a + E_A3] == s3 && r[a + E_PORT] == sport && u[b + E_A3] == d3 && r[b + E_PORT] == dport) {
    if (endpoint_is(t, a, src, sport) && endpoint_is(t, b, dst, dport)) return 1;
  }
  if (u[b + E_A3] == s3 && r[b + E_PORT] == sport && u[a + E_A3] == d3 && r[a + E_PORT] == dport) {
    if (endpoint_is(t, b, src, sport) && endpoint_is(t, a, dst, dport)) return 1;
  }
  return 0;
}

static inline int table_find(Tracker *t, int32_t hash, const uint32_t *src, int sport, const uint32_t *dst, int dport) {
  int32_t *cells = t->cells;
  uint32_t mask = t->mask;
  uint32_t i = (uint32_t)hash & mask;
  for (;;) {
    int32_t slot = cells[2 * i + 1];
    if (slot == -1) return -1;
    if (cells[2 * i] == hash && table_matches(t, slot, src, sport, dst, dport)) return slot;
    i = (i + 1) & mask;
  }
}

static void table_place(Tracker *t, int32_t hash, int32_t slot) {
  int32_t *cells = t->cells;
  uint32_t mask = t->mask;
  uint32_t i = (uint32_t)hash & mask;
  while (cells[2 * i + 1] != -1) i = (i + 1) & mask;
  cells[2 * i] = hash;
  cells[2 * i + 1] = slot;
}

static void table_grow(Tracker *t) {
  int32_t *old = t->cells;
  uint32_t oldBuckets = t->mask + 1;
  uint32_t cap = oldBuckets * 2;
  t->cells = empty_cells(cap);
  t->mask = cap - 1;
  for (uint32_t i = 1; i < 2 * oldBuckets; i += 2)
    if (old[i] != -1) table_place(t, old[i - 1], old[i]);
  free(old);
}

static void table_insert(Tracker *t, int slot, int32_t hash) {
  if ((uint32_t)(t->count + 1) * 2 > t->mask + 1) table_grow(t);
  table_place(t, hash, slot);
  t->count++;
}

static int table_remove(Tracker *t, int slot, int32_t hash) {
  int32_t *cells = t->cells;
  uint32_t mask = t->mask;
  uint32_t i = (uint32_t)hash & mask;
  for (;;) {
    int32_t s = cells[2 * i + 1];
    if (s == -1) return 0;
    if (s == slot) break;
    i = (i + 1) & mask;
  }
  t->count--;
  uint32_t hole = i;
  uint32_t j = (i + 1) & mask;
  for (;;) {
    int32_t s = cells[2 * j + 1];
    if (s == -1) break;
    int32_t h = cells[2 * j];
    uint32_t home = (uint32_t)h & mask;
    uint32_t dist = (j - home) & mask;
    uint32_t toHole = (j - hole) & mask;
    if (dist >= toHole) {
      cells[2 * hole] = h;
      cells[2 * hole + 1] = s;
      hole = j;
    }
    j = (j + 1) & mask;
  }
  cells[2 * hole + 1] = -1;
  return 1;
}

/* ------------------------------------------------------------------ deadline-heap.ts */

static void heap_init(Tracker *t) {
  t->hcap = 1024;
  t->htimes = malloc(sizeof(double) * t->hcap);
  t->horders = malloc(sizeof(double) * t->hcap);
  t->hslots = malloc(sizeof(int32_t) * t->hcap);
  t->hposCap = 1024;
  t->hpos = malloc(sizeof(int32_t) * t->hposCap);
  for (int i = 0; i < t->hposCap; i++) t->hpos[i] = -1;
  t->hn = 0;
}

static inline double heap_peek(Tracker *t) { return t->hn > 0 ? t->htimes[0] : INFINITY; }

static inline int heap_before(Tracker *t, double time, double order, int j) {
  double tj = t->htimes[j];
  return time < tj || (time == tj && order < t->horders[j]);
}

static inline void heap_put(Tracker *t, int to, int from) {
  int slot = t->hslots[from];
  t->htimes[to] = t->htimes[from];
  t->horders[to] = t->horders[from];
  t->hslots[to] = slot;
  t->hpos[slot] = to;
}

static inline void heap_set(Tracker *t, int i, double time, double order, int slot) {
  t->htimes[i] = time;
  t->horders[i] = order;
  t->hslots[i] = slot;
  t->hpos[slot] = i;
}

static void heap_sift_up(Tracker *t, int i, double time, double order, int slot) {
  while (i > 0) {
    int parent = (i - 1) >> 1;
    if (!heap_before(t, time, order, parent)) break;
    heap_put(t, i, parent);
    i = parent;
  }
  heap_set(t, i, time, order, slot);
}

static void heap_sift_down(Tracker *t, int i, double time, double order, int slot) {
  int n = t->hn;
  for (;;) {
    int l = 2 * i + 1;
    if (l >= n) break;
    int rr = l + 1;
    int c = rr < n && heap_before(t, t->htimes[rr], t->horders[rr], l) ? rr : l;
    double tc = t->htimes[c];
    if (!(tc < time || (tc == time && t->horders[c] < order))) break;
    heap_put(t, i, c);
    i = c;
  }
  heap_set(t, i, time, order, slot);
}

static void heap_schedule(Tracker *t, int slot, double time, double order) {
  if (slot >= t->hposCap) {
    int cap = t->hposCap * 2;
    while (cap <= slot) cap *= 2;
    t->hpos = realloc(t->hpos, sizeof(int32_t) * cap);
    for (int i = t->hposCap; i < cap; i++) t->hpos[i] = -1;
    t->hposCap = cap;
  }
  int i = t->hpos[slot];
  if (i == -1) {
    if (t->hn == t->hcap) {
      t->hcap *= 2;
      t->htimes = realloc(t->htimes, sizeof(double) * t->hcap);
      t->horders = realloc(t->horders, sizeof(double) * t->hcap);
      t->hslots = realloc(t->hslots, sizeof(int32_t) * t->hcap);
    }
    i = t->hn++;
  } else if (time >= t->htimes[i]) {
    return;
  }
  heap_sift_up(t, i, time, order, slot);
}

static int heap_pop(Tracker *t) {
  int top = t->hslots[0];
  t->hpos[top] = -1;
  int last = --t->hn;
  if (last > 0) heap_sift_down(t, 0, t->htimes[last], t->horders[last], t->hslots[last]);
  return top;
}

static void heap_remove(Tracker *t, int slot) {
  if (slot >= t->hposCap) return;
  int i = t->hpos[slot];
  if (i == -1) return;
  t->hpos[slot] = -1;
  int last = --t->hn;
  if (i == last) return;
  double time = t->htimes[last];
  double order = t->horders[last];
  int moved = t->hslots[last];
  if (i > 0 && heap_before(t, time, order, (i - 1) >> 1)) heap_sift_up(t, i, time, order, moved);
  else heap_sift_down(t, i, time, order, moved);
}

/* ------------------------------------------------------------------ evicted-attempts.ts */

static inline uint32_t ev_slot_of(uint32_t hash, uint32_t isn) {
  return ((((hash ^ (isn * 0x9e3779b1u)) * 0x85ebca6bu)) >> 12) & (EVICTED_MEMORY_SLOTS - 1);
}

static void ev_remember(Tracker *t, uint32_t hash, uint32_t isn) {
  uint32_t i = ev_slot_of(hash, isn);
  t->evKeys[2 * i] = hash;
  t->evKeys[2 * i + 1] = isn;
  t->evUsed[i] = 1;
}

static int ev_has(Tracker *t, uint32_t hash, uint32_t isn) {
  uint32_t i = ev_slot_of(hash, isn);
  return t->evUsed[i] == 1 && t->evKeys[2 * i] == hash && t->evKeys[2 * i + 1] == isn;
}

/* ------------------------------------------------------------------ history.ts */

static void spill_reserve(Spill *s, int n) {
  if (s->cap < n) {
    int cap = s->cap ? s->cap : 64;
    while (cap < n) cap *= 2;
    s->p = realloc(s->p, cap);
    s->cap = cap;
  }
}

static void add_history(Tracker *t, int slot, int code) {
  int32_t *i = t->r;
  int lenAt = slot * WORDS + S_HIST_LEN;
  int len = i[lenAt];
  if (len < HIST_INLINE) {
    t->mem[(size_t)slot * RECORD_BYTES + HIST_AT + len] = (uint8_t)code;
    i[lenAt] = len + 1;
  } else if (len == HIST_SPILLED) {
    Spill *s = &t->spill[slot];
    spill_reserve(s, s->len + 1);
    s->p[s->len++] = (char)code;
  } else {
    Spill *s = &t->spill[slot];
    spill_reserve(s, len + 1);
    memcpy(s->p, t->mem + (size_t)slot * RECORD_BYTES + HIST_AT, len);
    s->p[len] = (char)code;
    s->len = len + 1;
    t->spillCount++;
    i[lenAt] = HIST_SPILLED;
  }
}

static inline void add_history_for(Tracker *t, int slot, int code, int isOrig) {
  add_history(t, slot, isOrig ? code : code | 0x20);
}

static inline int check_history(Tracker *t, int slot, uint32_t mask, int code, int isOrig) {
  if (!isOrig) mask <<= 16;
  int at = slot * WORDS + S_HIST_SEEN;
  uint32_t seen = t->u[at];
  if ((seen & mask) == 0) {
    t->u[at] = seen | mask;
    add_history_for(t, slot, code, isOrig);
    return 0;
  }
  return 1;
}

int tracker_history_length(Tracker *t, int slot) {
  int len = t->r[slot * WORDS + S_HIST_LEN];
  return len == HIST_SPILLED ? t->spill[slot].len : len;
}

int tracker_history(Tracker *t, int slot, char *out, int cap) {
  int len = t->r[slot * WORDS + S_HIST_LEN];
  const char *src = (const char *)t->mem + (size_t)slot * RECORD_BYTES + HIST_AT;
  if (len == HIST_SPILLED) {
    len = t->spill[slot].len;
    src = t->spill[slot].p;
  }
  if (len > cap - 1) len = cap - 1;
  memcpy(out, src, len);
  out[len] = 0;
  return len;
}

static void flip_history_from_start(Tracker *t, int slot) {
  int s = slot * WORDS;
  int n = tracker_history_length(t, slot);
  char *old = malloc(n + 1);
  tracker_history(t, slot, old, n + 1);
  t->r[s + S_HIST_LEN] = 0;
  if (t->spill[slot].len > 0) {
    t->spill[slot].len = 0;
    t->spillCount--;
  }
  add_history(t, slot, LT_FLIP);
  for (int i = 0; i < n; i++) {
    int c = (uint8_t)old[i];
    int isLetter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
    add_history(t, slot, isLetter ? c ^ 0x20 : c);
  }
  free(old);
  uint32_t seen = t->u[s + S_HIST_SEEN];
  t->u[s + S_HIST_SEEN] = ((seen & 0xffff) << 16) | (seen >> 16);
}

static inline int bump_scaled(int32_t *r, int at) {
  int32_t count = r[at] + 1;
  r[at] = count;
  int64_t threshold = r[at + 1];
  if (count == threshold) {
    int64_t next = threshold * 10;
    if (next > 0xffffffffLL) r[at] = 0;
    else r[at + 1] = (int32_t)next;
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------ tcp-session.ts */

static void flip_roles(Tracker *t, int slot) {
  int at = slot * WORDS + S_ORIG_SIDE;
  t->r[at] = 1 - t->r[at];
  add_history(t, slot, LT_FLIP);
}

static void flip_after_syn_ack(Tracker *t, int slot) {
  int32_t *i = t->r;
  int s = slot * WORDS;
  int newOrig = 1 - i[s + S_ORIG_SIDE];
  i[s + S_ORIG_SIDE] = newOrig;
  int resp = endpoint_base(slot, 1 - newOrig);
  i[resp + E_PREV_STATE] = ST_INACTIVE;
  i[resp + E_STATE] = ST_ESTABLISHED;
  t->w[slot * WIDE_WORDS + W_ATTEMPT_AT] = -1;
  flip_history_from_start(t, slot);
  i[s + S_BEGAN_WITH_SYN_ACK] = 0;
}

static int is_reuse(Tracker *t, int slot, const Pkt *p) {
  int flags = p->tcpFlags;
  if (!(flags & TCP_SYN)) return 0;
  int32_t *r = t->r;
  uint32_t *u = t->u;
  int origSide = r[slot * WORDS + S_ORIG_SIDE];
  int orig = endpoint_base(slot, origSide);
  int resp = endpoint_base(slot, 1 - origSide);
  int connOrig = orig;
  if (flags & TCP_ACK) {
    if (r[orig + E_STATE] != ST_INACTIVE) return 0;
    connOrig = resp;
  }
  if (r[orig + E_DID_CLOSE] == 0 && r[resp + E_DID_CLOSE] == 0) {
    uint32_t baseSeq = p->seq;
    if (baseSeq == u[connOrig + E_START_SEQ]) return 0;
    if (!(flags & TCP_ACK) && r[connOrig + E_STATE] == ST_SYN_ACK_SENT && r[resp + E_STATE] == ST_INACTIVE &&
        baseSeq == u[resp + E_START_SEQ])
      return 0;
  }
  return 1;
}

static void note_interface(Tracker *t, int slot, int iface) {
  int at = slot * WORDS + S_IFACE0;
  int iface0 = t->r[at];
  if (iface0 == iface) return;
  if (iface0 == -1) {
    t->r[at] = iface;
    return;
  }
  /* addInterface: a packet on an interface other than the flow's first one */
  Ifaces *l = &t->ifaces[slot];
  if (l->n == 0) {
    if (l->cap < 4) {
      l->ids = realloc(l->ids, 4 * sizeof(int));
      l->cap = 4;
    }
    l->ids[0] = iface0;
    l->n = 1;
    t->ifacesCount++;
  }
  for (int k = 0; k < l->n; k++)
    if (l->ids[k] == iface) return;
  if (l->n == l->cap) {
    l->cap *= 2;
    l->ids = realloc(l->ids, l->cap * sizeof(int));
  }
  l->ids[l->n++] = iface;
}

static __thread int rel_underflow;

static inline double get_relative_seq(uint32_t *u, int e, uint32_t cur, uint32_t last, int wraps) {
  rel_underflow = 0;
  int32_t delta = seq_delta(cur, last);
  if (delta < 0) {
    if (wraps && cur > last) --wraps;
  } else if (delta > 0) {
    if (cur < last) ++wraps;
  }
  if (wraps == 0) {
    delta = seq_delta(cur, u[e + E_START_SEQ]);
    if (delta < 0) rel_underflow = 1;
    return delta;
  }
  return to_relative_seq_space(u, e, cur, wraps);
}

static void record_facts(Tracker *t, int slot, int side, const Pkt *p, const uint8_t *buf, int bufLen, double time,
                         int iface, int SYN, int ACK, int RST) {
  int32_t *r = t->r;
  uint32_t *u = t->u;
  double *w = t->w;
  int s = slot * WORDS;
  int sw = slot * WIDE_WORDS;
  int ep = endpoint_base(slot, side);
  int peer = endpoint_base(slot, 1 - side);
  w[sw + W_PACKETS_A + side]++;
  if (time > w[sw + W_LAST_SEEN]) w[sw + W_LAST_SEEN] = time;
  if (time < w[sw + W_FIRST_SEEN]) w[sw + W_FIRST_SEEN] = time;
  note_interface(t, slot, iface);

  if (SYN && !ACK) {
    r[ep + E_SYNS]++;
    if (r[s + S_SYN_FROM] == 0) {
      TcpOpts o;
      parse_tcp_options(buf, p->tcpOptionsOffset, p->tcpOptionsLength, bufLen, &o);
      r[s + S_SYN_FROM] = side + 1;
      w[sw + W_SYN_AT] = time;
      u[s + S_SYN_ISN] = p->seq;
      r[s + S_SYN_MSS] = o.mss;
      r[s + S_SYN_WSCALE] = o.windowScale;
      r[s + S_SYN_SACK] = o.sackPermitted;
      w[sw + W_SYN_TSVAL] = o.tsVal;
      w[sw + W_SYN_TSECR] = o.tsEcr;
      r[s + S_SYN_IP_ID] = p->ipId >= 0 ? (int32_t)(uint32_t)p->ipId : -1;
      r[s + S_SYN_TTL] = p->ttl;
    }
    u[ep + E_LAST_SYN_SEQ] = p->seq;
  } else if (SYN && ACK && !RST) {
    r[ep + E_SYN_ACKS]++;
    u[ep + E_SYN_ACK_SEQ] = p->seq;
    if (r[s + S_SYN_ACK_FROM] == 0) {
      r[s + S_SYN_ACK_FROM] = side + 1;
      w[sw + W_SYN_ACK_AT] = time;
    }
  } else if (ACK && !RST && r[ep + E_ACKED_PEER_SYN_ACK] == 0 && r[ep + E_SYNS] > 0) {
    if (r[peer + E_SYN_ACKS] == 0 || seq_delta(p->ack, u[peer + E_SYN_ACK_SEQ]) >= 1) r[ep + E_ACKED_PEER_SYN_ACK] = 1;
  }
  if (RST && r[peer + E_ACKED_PEER_SYN_ACK] == 0) r[ep + E_RST_BEFORE_HANDSHAKE] = 1;
  if (r[ep + E_FIRST_KIND] == 0) r[ep + E_FIRST_KIND] = SYN ? (ACK ? 2 : 1) : 3;
}

static void init_endpoint(int32_t *r, uint32_t *u, int e, int SYN, uint32_t firstSeq, uint32_t lastSeq) {
  switch (r[e + E_STATE]) {
    case ST_INACTIVE:
      if (SYN) {
        u[e + E_ACK_SEQ] = firstSeq;
        u[e + E_START_SEQ] = firstSeq;
      } else {
        uint32_t n = firstSeq - 1;
        u[e + E_ACK_SEQ] = n;
        u[e + E_START_SEQ] = n;
        lastSeq = firstSeq;
      }
      u[e + E_LAST_SEQ] = lastSeq;
      break;
    case ST_SYN_SENT:
    case ST_SYN_ACK_SENT:
      if (SYN && firstSeq != u[e + E_START_SEQ]) {
        u[e + E_START_SEQ] = firstSeq;
        u[e + E_ACK_SEQ] = firstSeq;
        u[e + E_LAST_SEQ] = lastSeq;
      }
      break;
    case ST_ESTABLISHED:
    case ST_PARTIAL:
      if (SYN) {
        u[e + E_START_SEQ] = firstSeq;
        u[e + E_ACK_SEQ] = firstSeq;
        u[e + E_LAST_SEQ] = lastSeq;
      }
      break;
    case ST_RESET:
      if (SYN && r[e + E_PREV_STATE] == ST_INACTIVE) {
        u[e + E_START_SEQ] = firstSeq;
        u[e + E_ACK_SEQ] = firstSeq;
        u[e + E_LAST_SEQ] = lastSeq;
      }
      break;
    default:
      break;
  }
}

static void update_history(Tracker *t, int slot, int e, int o, int SYN, int ACK, int FIN, int RST, double relSeq,
                           int64_t len) {
  double *r = t->w;
  int bits = SYN + FIN + RST;
  if (bits > 1) {
    if (FIN && RST) check_history(t, slot, H_FIN_RST_PKT, LT_I, o);
    else check_history(t, slot, H_MULTI_FLAG_PKT, LT_Q, o);
  } else if (bits == 1) {
    if (SYN) {
      int code = ACK ? LT_H : LT_S;
      if (check_history(t, slot, H_SYN_PKT, code, o) && relSeq != r[e + EW_HIST_LAST_SYN]) add_history_for(t, slot, code, o);
      r[e + EW_HIST_LAST_SYN] = relSeq;
    }
    if (FIN) {
      if (check_history(t, slot, H_FIN_PKT, LT_F, o) && relSeq + len != r[e + EW_HIST_LAST_FIN])
        add_history_for(t, slot, LT_F, o);
      r[e + EW_HIST_LAST_FIN] = relSeq + len;
    }
    if (RST) {
      if (check_history(t, slot, H_RST_PKT, LT_R, o) && relSeq != r[e + EW_HIST_LAST_RST]) add_history_for(t, slot, LT_R, o);
      r[e + EW_HIST_LAST_RST] = relSeq;
    }
  } else if (len) {
    check_history(t, slot, H_DATA_PKT, LT_D, o);
  } else if (ACK) {
    check_history(t, slot, H_ACK_PKT, LT_A, o);
  }
}

static int update_inactive(Tracker *t, int slot, double time, int ep, int peer, uint32_t baseSeq, int64_t len,
                           int isOrig, int SYN, int ACK, int FIN, int RST, int timersOn) {
  int32_t *r = t->r;
  int s = slot * WORDS;
  int doClose = 0;
  if (SYN) {
    if (isOrig) {
      set_state(r, ep, ACK ? ST_SYN_ACK_SENT : ST_SYN_SENT);
      if (timersOn) t->w[slot * WIDE_WORDS + W_ATTEMPT_AT] = time + ZEEK_TCP_ATTEMPT_DELAY;
    } else {
      if (ACK) {
        /* bad_SYN_ack weird only */
      } else if (r[peer + E_STATE] == ST_SYN_ACK_SENT && baseSeq == t->u[ep + E_START_SEQ]) {
        flip_roles(t, slot);
        set_state(r, peer, ST_ESTABLISHED);
      }
      if (r[peer + E_STATE] == ST_SYN_SENT) set_state(r, peer, ST_ESTABLISHED);
      set_state(r, ep, ST_ESTABLISHED);
    }
  }
  if (FIN) {
    set_state(r, ep, ST_CLOSED);
    doClose = 1;
  }
  if (RST) {
    set_state(r, ep, ST_RESET);
    doClose = 1;
  }
  if (r[ep + E_STATE] == ST_INACTIVE) {
    int orig = endpoint_base(slot, r[s + S_ORIG_SIDE]);
    if (!isOrig && len == 0 && r[orig + E_STATE] == ST_SYN_SENT) {
      /* an ACK of the initial SYN before the SYN-ACK */
    } else if (ACK && r[peer + E_STATE] == ST_ESTABLISHED) {
      set_state(r, ep, ST_ESTABLISHED);
    } else {
      set_state(r, ep, ST_PARTIAL);
    }
  }
  return doClose;
}

static void connection_closed(int32_t *r, double *w, int s, int sw, int ep, int peer) {
  if (r[ep + E_DID_CLOSE] == 1) return;
  r[ep + E_DID_CLOSE] = 1;
  int closeComplete = r[ep + E_STATE] == ST_RESET || r[peer + E_DID_CLOSE] == 1 || r[peer + E_STATE] == ST_INACTIVE;
  if (closeComplete) {
    if (r[ep + E_PREV_STATE] != ST_INACTIVE || r[peer + E_STATE] != ST_INACTIVE) r[s + S_ACTIVE] = 0;
    w[sw + W_ATTEMPT_AT] = -1;
    w[sw + W_RESET_AT] = -1;
    w[sw + W_DELETE_AT] = w[sw + W_LAST_TIME] + ZEEK_TCP_CLOSE_DELAY;
  }
}

static void process_segment(Tracker *t, int slot, int side, const Pkt *p, const uint8_t *buf, int bufLen, double time,
                            int iface, int timersOn) {
  int32_t *r = t->r;
  uint32_t *u = t->u;
  double *w = t->w;
  int s = slot * WORDS;
  int sw = slot * WIDE_WORDS;
  int ep = endpoint_base(slot, side);
  int peer = endpoint_base(slot, 1 - side);
  int isOrig = side == r[s + S_ORIG_SIDE];
  int flags = p->tcpFlags;
  int SYN = (flags & TCP_SYN) != 0;
  int ACK = (flags & TCP_ACK) != 0;
  int FIN = (flags & TCP_FIN) != 0;
  int RST = (flags & TCP_RST) != 0;
  int64_t len = p->payloadLength;
  uint32_t baseSeq = p->seq;
  uint32_t ackSeq = p->ack;

  record_facts(t, slot, side, p, buf, bufLen, time, iface, SYN, ACK, RST);

  int64_t segLen = len;
  if (SYN) ++segLen;
  if (FIN) ++segLen;
  if (RST) segLen -= len;
  uint32_t seqOnePast = (uint32_t)(baseSeq + segLen);

  init_endpoint(r, u, ep, SYN, baseSeq, seqOnePast);

  double relSeq = get_relative_seq(u, ep, baseSeq, u[ep + E_LAST_SEQ], r[ep + E_SEQ_WRAPS]);
  update_history(t, slot, endpoint_wide_base(slot, side), isOrig, SYN, ACK, FIN, RST, relSeq, len);

  if (p->window == 0 && !RST && r[peer + E_STATE] != ST_CLOSED && r[ep + E_STATE] != ST_RESET &&
      bump_scaled(r, ep + E_ZERO_WIN_COUNT))
    add_history_for(t, slot, LT_W, isOrig);

  if (r[ep + E_DID_CLOSE] == 0 || r[peer + E_DID_CLOSE] == 0) w[sw + W_LAST_TIME] = time;

  if (FIN) r[ep + E_FIN_CNT]++;

  if (ACK) {
    if (r[peer + E_STATE] == ST_INACTIVE) {
      uint32_t n = ackSeq - 1;
      u[peer + E_START_SEQ] = n;
      u[peer + E_ACK_SEQ] = n;
      u[peer + E_LAST_SEQ] = n;
    } else {
      uint32_t peerAck = u[peer + E_ACK_SEQ];
      get_relative_seq(u, peer, ackSeq, peerAck, r[peer + E_ACK_WRAPS]);
      if (!rel_underflow && !RST) {
        int32_t deltaAck = seq_delta(ackSeq, peerAck);
        if (!(ackSeq == 0 && deltaAck > TOO_LARGE_SEQ_DELTA) && deltaAck > 0) update_ack_seq(r, u, peer, ackSeq);
      }
    }
  }

  uint32_t lastSeq = u[ep + E_LAST_SEQ];
  int32_t deltaLast = seq_delta(seqOnePast, lastSeq);
  if ((SYN || RST) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
    /* untrusted jump */
  } else if (FIN && lastSeq == u[ep + E_START_SEQ] + 1) {
    update_last_seq(r, u, ep, seqOnePast);
  } else if (r[ep + E_STATE] == ST_RESET) {
    /* don't trust subsequent sequence numbers */
  } else if (deltaLast > 0) {
    update_last_seq(r, u, ep, seqOnePast);
  } else if (len > 0 && bump_scaled(r, ep + E_RXMIT_COUNT)) {
    add_history_for(t, slot, LT_T, isOrig);
  }

  int doClose = 0;
  switch (r[ep + E_STATE]) {
    case ST_INACTIVE:
      doClose = update_inactive(t, slot, time, ep, peer, baseSeq, len, isOrig, SYN, ACK, FIN, RST, timersOn);
      break;
    case ST_SYN_SENT:
    case ST_SYN_ACK_SENT:
      if (FIN) {
        set_state(r, ep, ST_CLOSED);
        doClose = 1;
      }
      if (RST) {
        set_state(r, ep, ST_RESET);
        r[s + S_ACTIVE] = 0;
        doClose = 1;
      }
      break;
    case ST_ESTABLISHED:
    case ST_PARTIAL:
      if (SYN && r[ep + E_STATE] == ST_PARTIAL && r[peer + E_STATE] == ST_INACTIVE && !ACK) set_state(r, ep, ST_SYN_SENT);
      if (FIN && !RST) {
        set_state(r, ep, ST_CLOSED);
        if (r[peer + E_STATE] == ST_RESET && r[peer + E_PREV_STATE] == ST_CLOSED) set_state(r, peer, ST_CLOSED);
        doClose = 1;
      }
      if (RST) {
        set_state(r, ep, ST_RESET);
        doClose = 1;
        if (r[peer + E_STATE] != ST_RESET || r[peer + E_PREV_STATE] != ST_ESTABLISHED) r[s + S_ACTIVE] = 0;
      }
      break;
    case ST_CLOSED:
      if (RST && r[peer + E_STATE] != ST_CLOSED) {
        set_state(r, ep, ST_RESET);
        if (r[ep + E_DID_CLOSE] == 0) doClose = 1;
        w[sw + W_RESET_AT] = time + ZEEK_TCP_RESET_DELAY;
      }
      break;
    default:
      break;
  }
  if (doClose) connection_closed(r, w, s, sw, ep, peer);
}

/* ------------------------------------------------------------------ interface-copy.ts */

static int is_interface_copy(Tracker *t, int slot, int side, const Pkt *p, double time, int iface) {
  double *w = t->w;
  int at = slot * WIDE_WORDS + W_LAST_A_AT + 2 * side;
  int i = slot * WORDS + S_LAST_A_IFACE + 2 * side;
  double key = (double)p->tcpFlags + 512.0 * (double)p->payloadLength + 33554432.0 * ((double)p->ipId + 1);
  uint32_t seq = p->seq;
  if (w[at] >= 0 && t->r[i] != iface && t->u[i + 1] == seq && w[at + 1] == key && fabs(time - w[at]) <= COPY_WINDOW_SECONDS)
    return 1;
  w[at] = time;
  w[at + 1] = key;
  t->r[i] = iface;
  t->u[i + 1] = seq;
  return 0;
}

/* ------------------------------------------------------------------ tracker.ts */

static void emit(Tracker *t, int slot) {
  table_remove(t, slot, t->r[slot * WORDS + S_HASH]);
  heap_remove(t, slot);
  t->sink(t, slot, t->ctx);
  store_release(t, slot);
}

static int still_attempt(Tracker *t, int slot) {
  int32_t *r = t->r;
  int origSide = r[slot * WORDS + S_ORIG_SIDE];
  int os = r[endpoint_base(slot, origSide) + E_STATE];
  return (os == ST_SYN_SENT || os == ST_SYN_ACK_SENT) && r[endpoint_base(slot, 1 - origSide) + E_STATE] == ST_INACTIVE;
}

static int still_syn_ack_only(Tracker *t, int slot) {
  int32_t *r = t->r;
  int origSide = r[slot * WORDS + S_ORIG_SIDE];
  return r[endpoint_base(slot, origSide) + E_STATE] == ST_SYN_ACK_SENT &&
         r[endpoint_base(slot, 1 - origSide) + E_STATE] == ST_INACTIVE;
}

static double deadline(Tracker *t, int slot) {
  int32_t *r = t->r;
  double *w = t->w;
  int sw = slot * WIDE_WORDS;
  double d;
  if (t->zeekTimers) {
    d = w[sw + W_LAST_TIME] + ZEEK_TCP_INACTIVITY_TIMEOUT;
    double attemptAt = w[sw + W_ATTEMPT_AT];
    if (attemptAt >= 0 && attemptAt < d) d = attemptAt;
  } else {
    d = w[sw + W_LAST_SEEN] + (still_attempt(t, slot) ? t->attemptIdle : t->idle);
  }
  double deleteAt = w[sw + W_DELETE_AT];
  if (deleteAt >= 0) {
    double del = t->zeekTimers ? deleteAt : deleteAt - ZEEK_TCP_CLOSE_DELAY + t->closeDelay;
    if (del < d) d = del;
  }
  double resetAt = w[sw + W_RESET_AT];
  if (resetAt >= 0 && r[slot * WORDS + S_ACTIVE] == 1) {
    double rs = t->zeekTimers ? resetAt : resetAt - ZEEK_TCP_RESET_DELAY + t->closeDelay;
    if (rs < d) d = rs;
  }
  return d;
}

static void expire(Tracker *t, double now) {
  while (heap_peek(t) <= now) {
    int slot = heap_pop(t);
    double *w = t->w;
    int sw = slot * WIDE_WORDS;
    double attemptAt = w[sw + W_ATTEMPT_AT];
    if (t->zeekTimers && attemptAt >= 0 && attemptAt <= now) {
      w[sw + W_ATTEMPT_AT] = -1;
      if (t->r[slot * WORDS + S_ACTIVE] == 1 && still_attempt(t, slot)) {
        emit(t, slot);
        continue;
      }
    }
    double d = deadline(t, slot);
    if (d <= now) emit(t, slot);
    else heap_schedule(t, slot, d, w[sw + W_SEQ_NO]);
  }
}

static void end_early(Tracker *t) {
  int slot = heap_pop(t);
  int32_t *r = t->r;
  int origSide = r[slot * WORDS + S_ORIG_SIDE];
  int orig = endpoint_base(slot, origSide);
  if (r[orig + E_SYNS] > 0 && still_attempt(t, slot)) {
    if (t->evKeys == NULL) {
      t->evKeys = xcalloc((size_t)EVICTED_MEMORY_SLOTS * 2, sizeof(uint32_t));
      t->evUsed = xcalloc(EVICTED_MEMORY_SLOTS, 1);
    }
    ev_remember(t, (uint32_t)r[slot * WORDS + S_HASH], t->u[orig + E_START_SEQ]);
  }
  t->endedEarly++;
  emit(t, slot);
}

static int met_ended_attempt(Tracker *t, const Pkt *p, int32_t hash) {
  int flags = p->tcpFlags;
  int syn = (flags & TCP_SYN) != 0;
  if (syn && (flags & TCP_ACK) == 0 && ev_has(t, (uint32_t)hash, p->seq)) {
    t->synRetransmissionsAfter++;
    return 1;
  }
  if ((syn || (flags & TCP_RST) != 0) && (flags & TCP_ACK) != 0 && ev_has(t, (uint32_t)hash, p->ack - 1)) {
    t->answersAfter++;
    return 1;
  }
  return 0;
}

static inline int want_flip(Tracker *t, int srcPort, int dstPort, int flags) {
  if (!t->likely[srcPort]) return 0;
  if (t->likely[dstPort]) return (flags & TCP_SYN) == 0 && srcPort < dstPort;
  return 1;
}

static void add_tcp(Tracker *t, const Pkt *p, const uint8_t *buf, int bufLen, double time, int iface) {
  if (p->ipVersion != 4 && p->ipVersion != 6) return;
  int32_t hash = tuple_hash(p->src, p->srcPort, p->dst, p->dstPort);
  int slot = table_find(t, hash, p->src, p->srcPort, p->dst, p->dstPort);
  if (slot >= 0 && is_reuse(t, slot, p)) {
    emit(t, slot);
    slot = -1;
  }
  int flags = p->tcpFlags;
  if (slot < 0) {
    if (t->evKeys != NULL && met_ended_attempt(t, p, hash)) return;
    if (t->count >= t->maxLive && t->hn > 0) end_early(t);
    slot = store_allocate(t, ++t->created, p->ipVersion, p->src, p->srcPort, p->dst, p->dstPort, time);
    t->r[slot * WORDS + S_HASH] = hash;
    int bareSyn = (flags & TCP_SYN) != 0 && (flags & TCP_ACK) == 0;
    if (!bareSyn && want_flip(t, p->srcPort, p->dstPort, flags)) flip_roles(t, slot);
    else if ((flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) t->r[slot * WORDS + S_BEGAN_WITH_SYN_ACK] = 1;
    table_insert(t, slot, hash);
  } else if (t->r[slot * WORDS + S_BEGAN_WITH_SYN_ACK] == 1 && (flags & (TCP_SYN | TCP_FIN | TCP_RST)) == 0 &&
             ((flags & TCP_ACK) != 0 || p->payloadLength > 0) && still_syn_ack_only(t, slot)) {
    flip_after_syn_ack(t, slot);
  }
  int side = endpoint_is(t, endpoint_base(slot, 0), p->src, p->srcPort) ? 0 : 1;
  if (is_interface_copy(t, slot, side, p, time, iface)) {
    note_interface(t, slot, iface);
    return;
  }
  process_segment(t, slot, side, p, buf, bufLen, time, iface, t->zeekTimers);
  heap_schedule(t, slot, deadline(t, slot), t->w[slot * WIDE_WORDS + W_SEQ_NO]);
}

static void add_icmp(Tracker *t, const Pkt *p) {
  int v = p->quotedIpVersion;
  if (v != 4 && v != 6) return;
  int32_t hash = tuple_hash(p->quotedSrc, p->quotedSrcPort, p->quotedDst, p->quotedDstPort);
  int slot = table_find(t, hash, p->quotedSrc, p->quotedSrcPort, p->quotedDst, p->quotedDstPort);
  if (slot < 0) return;
  int side = endpoint_is(t, endpoint_base(slot, 0), p->quotedSrc, p->quotedSrcPort) ? 0 : 1;
  int q = endpoint_base(slot, side);
  uint32_t seq = p->quotedSeq;
  if (t->r[q + E_SYNS] == 0) return;
  if (!p->quotedSeqCut && seq != t->u[q + E_LAST_SYN_SEQ] && seq != t->u[q + E_START_SEQ]) return;
  IcmpAnswer *a = &t->icmp[slot];
  if (a->present) return;
  a->present = 1;
  a->quotedSide = side;
  memcpy(a->from, p->src, sizeof a->from);
  a->fromVersion = p->ipVersion == 6 ? 6 : 4;
  a->type = p->icmpType;
  a->code = p->icmpCode;
  t->icmpCount++;
}

void tracker_add(Tracker *t, const Pkt *p, const uint8_t *buf, int bufLen, double time, int iface) {
  if (time > t->now) {
    t->now = time;
    if (heap_peek(t) <= time) expire(t, time);
  }
  if (p->fragment) return;
  if (p->transport == T_TCP) add_tcp(t, p, buf, bufLen, time, iface);
  else if (p->transport == T_ICMP && p->icmpQuotesTcp) add_icmp(t, p);
}

static __thread Tracker *sort_ctx;
static int by_seq_no(const void *a, const void *b) {
  double x = sort_ctx->w[*(const int *)a * WIDE_WORDS + W_SEQ_NO];
  double y = sort_ctx->w[*(const int *)b * WIDE_WORDS + W_SEQ_NO];
  return x < y ? -1 : x > y;
}

int tracker_finish_step(Tracker *t, int max) {
  if (t->finishing == NULL) {
    t->finishing = xcalloc((size_t)t->used + 1, sizeof(int));
    int n = 0;
    for (int slot = 0; slot < t->used; slot++)
      if (t->w[slot * WIDE_WORDS + W_SEQ_NO] != 0) t->finishing[n++] = slot;
    sort_ctx = t;
    qsort(t->finishing, n, sizeof(int), by_seq_no);
    t->finishingCount = n;
    t->finished = 0;
  }
  int end = t->finishingCount - t->finished > max ? t->finished + max : t->finishingCount;
  for (; t->finished < end; t->finished++) emit(t, t->finishing[t->finished]);
  return t->finishingCount - t->finished;
}

Tracker *tracker_new(const TrackerOptions *o, FlowSink sink, void *ctx) {
  Tracker *t = xcalloc(1, sizeof(Tracker));
  t->sink = sink;
  t->ctx = ctx;
  t->zeekTimers = o->zeekTimers;
  if (o->likelyServerPorts != NULL) {
    for (int k = 0; k < o->likelyCount; k++)
      if (o->likelyServerPorts[k] >= 0 && o->likelyServerPorts[k] < 65536) t->likely[o->likelyServerPorts[k]] = 1;
  } else {
    for (size_t k = 0; k < sizeof DEFAULT_LIKELY_SERVER_PORTS / sizeof DEFAULT_LIKELY_SERVER_PORTS[0]; k++)
      t->likely[DEFAULT_LIKELY_SERVER_PORTS[k]] = 1;
  }
  t->closeDelay = o->closeDelay;
  t->attemptIdle = o->attemptIdleTimeout;
  t->idle = o->idleTimeout;
  t->maxLive = o->maxLiveFlows;
  store_init(t);
  table_init(t, 1024);
  heap_init(t);
  t->now = -INFINITY;
  return t;
}

void tracker_free(Tracker *t) {
  free(t->finishing);
  munmap(t->mem, t->memBytes);
  /* Only slots ever taken hold anything: the rest of these arrays was never touched (and stays so). */
  for (int i = 0; i < t->used; i++) free(t->spill[i].p);
  free(t->spill);
  for (int i = 0; i < t->used; i++) free(t->ifaces[i].ids);
  free(t->ifaces);
  free(t->icmp);
  free(t->freeList);
  free(t->cells);
  free(t->htimes);
  free(t->horders);
  free(t->hslots);
  free(t->hpos);
  free(t->evKeys);
  free(t->evUsed);
  free(t);
}

double *tracker_wide(Tracker *t) { return t->w; }
const uint8_t *tracker_record(Tracker *t, int slot) { return t->mem + (size_t)slot * RECORD_BYTES; }
const char *tracker_spilled_history(Tracker *t, int slot, int *len) {
  if (t->r[slot * WORDS + S_HIST_LEN] != HIST_SPILLED) return NULL;
  *len = t->spill[slot].len;
  return t->spill[slot].p;
}
const int *tracker_interfaces(Tracker *t, int slot, int *n) {
  *n = t->ifaces[slot].n;
  return t->ifaces[slot].n > 0 ? t->ifaces[slot].ids : NULL;
}
const IcmpAnswer *tracker_icmp(Tracker *t, int slot) { return t->icmp[slot].present ? &t->icmp[slot] : NULL; }
int tracker_size(Tracker *t) { return t->count; }
int32_t *tracker_int(Tracker *t) { return t->r; }
uint32_t *tracker_uint(Tracker *t) { return t->u; }

void tracker_pressure(Tracker *t, double *a, double *b, double *c) {
  *a = t->endedEarly;
  *b = t->synRetransmissionsAfter;
  *c = t->answersAfter;
}

/* ------------------------------------------------------------------ conn-state.ts */

/* Zeek's RSTOS0 pattern ^\^?S[^HAFGIQ]*R (a prefix test, as RegExp.test with ^) */
static int rstos0_history(const char *h) {
  if (*h == '^') h++;
  if (*h != 'S') return 0;
  for (h++; *h; h++) {
    if (*h == 'R') return 1;
    if (strchr("HAFGIQ", *h)) return 0;
  }
  return 0;
}

const char *conn_state(Tracker *t, int slot, const char *history) {
  int32_t *i = t->r;
  uint32_t *u = t->u;
  int origSide = i[slot * WORDS + S_ORIG_SIDE];
  int o = endpoint_base(slot, origSide);
  int p = endpoint_base(slot, 1 - origSide);
  int os = i[o + E_STATE];
  int rs = i[p + E_STATE];
  int oInactive = endpoint_inactive(i, o);
  int rInactive = endpoint_inactive(i, p);
  if (rs == ST_RESET) {
    if (os == ST_SYN_SENT || os == ST_SYN_ACK_SENT ||
        (os == ST_RESET && endpoint_size(i, u, o, p) == 0 && endpoint_size(i, u, p, o) == 0))
      return "REJ";
    return oInactive ? "RSTRH" : "RSTR";
  }
  if (os == ST_RESET) {
    if (rInactive) return rstos0_history(history) ? "RSTOS0" : "OTH";
    return "RSTO";
  }
  if (rs == ST_CLOSED && os == ST_CLOSED) return "SF";
  if (os == ST_CLOSED) return rInactive ? "SH" : "S2";
  if (rs == ST_CLOSED) return oInactive ? "SHR" : "S3";
  if (os == ST_SYN_SENT && rs == ST_INACTIVE) return "S0";
  if (os == ST_ESTABLISHED && rs == ST_ESTABLISHED) return "S1";
  return "OTH";
}
