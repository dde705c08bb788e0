/* Port of TrackStage.onFlow's accounting (src/analysis/track.ts), AttemptLog.note, AttemptStitcher.addView; see flow-account.h. */
#include "flow-account.h"

#include <stdlib.h>
#include <string.h>

/* src/analysis/packet-evidence.ts, attempt-log.ts, src/flow/stitch.ts, src/diagnose/input.ts */
#define MAX_REMEMBERED_NETWORKS 65536
#define V6_PAIR_SPAN 1048576.0
#define TWO_32 4294967296.0
#define MAX_SERVER_TEXTS 65536
enum { SYN_CLIENT = 0, SYN_SERVER, SYN_FLOW, SYN_FIRST_SYN_AT, SYN_TS_VAL, SYN_SYNS, SYN_ANSWERED_AT, SYN_LAST_SEEN, SYN_SERVER_CLOSED, SYN_SIZE };
enum { SW_FLOW = 0, SW_FIRST_SYN_AT, SW_CLIENT, SW_TS_VAL, SW_SIZE };
enum { SN_IFACE = 0, SN_MSS, SN_WSCALE, SN_SACK, SN_IP_ID, SN_OUTCOME, SN_SERVER, SN_SIZE };
/* Outcomes, numbered as the stitcher's OUTCOMES. */
enum { O_NONE = -1, O_COMPLETED = 0, O_REJECTED = 1, O_SYN_ACK_LOST = 2, O_UNANSWERED = 3 };

#define EMPTY (-0.5)

static uint32_t mix64(double key) {
  uint64_t x;
  memcpy(&x, &key, sizeof x);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return (uint32_t)x;
}

static int map_init(NumberMap *m, int cap) {
  m->keys = malloc((size_t)cap * sizeof(double));
  m->values = malloc((size_t)cap * sizeof(int32_t));
  if (m->keys == NULL || m->values == NULL) return 0;
  for (int i = 0; i < cap; i++) m->keys[i] = EMPTY;
  m->cap = cap;
  m->size = 0;
  return 1;
}

static void map_free(NumberMap *m) {
  free(m->keys);
  free(m->values);
}

/* The value of `key`, or -1. */
static int32_t map_get(const NumberMap *m, double key) {
  for (uint32_t i = mix64(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) return m->values[i];
    if (m->keys[i] == EMPTY) return -1;
  }
}

static int map_put_new(NumberMap *m, double key, int32_t value);

static int map_grow(NumberMap *m) {
  NumberMap bigger;
  if (!map_init(&bigger, m->cap * 2)) return 0;
  for (int i = 0; i < m->cap; i++)
    if (m->keys[i] != EMPTY) map_put_new(&bigger, m->keys[i], m->values[i]);
  map_free(m);
  *m = bigger;
  return 1;
}

/* Adds a key known to be absent; 0 when out of memory. */
static int map_put_new(NumberMap *m, double key, int32_t value) {
  if ((m->size + 1) * 2 > m->cap && !map_grow(m)) return 0;
  uint32_t i = mix64(key) & (m->cap - 1);
  while (m->keys[i] != EMPTY) i = (i + 1) & (m->cap - 1);
  m->keys[i] = key;
  m->values[i] = value;
  m->size++;
  return 1;
}

/* AddressIds' hash: the four words mixed, then murmur3's finalizer. */
static uint32_t address_hash(const uint32_t *w) {
  uint32_t h = (w[0] * 0x27d4eb2fu) ^ (w[1] * 0xc2b2ae3du) ^ (w[2] * 0x85ebca77u) ^ (w[3] * 0x9e3779b1u);
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h & 0x7fffffff;
}

static int addresses_init(AddressTable *t, int capacity) {
  t->slotCap = 512;
  t->wordCap = 256;
  t->slots = malloc((size_t)t->slotCap * sizeof(int32_t));
  t->words = malloc((size_t)t->wordCap * 4 * sizeof(uint32_t));
  if (t->slots == NULL || t->words == NULL) return 0;
  memset(t->slots, 0xff, (size_t)t->slotCap * sizeof(int32_t));
  t->count = 0;
  t->capacity = capacity;
  return 1;
}

static void addresses_free(AddressTable *t) {
  free(t->slots);
  free(t->words);
}

static void addresses_place(AddressTable *t, int id) {
  uint32_t i = address_hash(t->words + 4 * id) & (t->slotCap - 1);
  while (t->slots[i] != -1) i = (i + 1) & (t->slotCap - 1);
  t->slots[i] = id;
}

/* AddressIds.id: the id of `w`, given one when new; -1 when new and the table is full; -2 when out of memory. */
static int address_id(AddressTable *t, const uint32_t *w) {
  for (uint32_t i = address_hash(w) & (t->slotCap - 1);; i = (i + 1) & (t->slotCap - 1)) {
    int id = t->slots[i];
    if (id == -1) break;
    const uint32_t *x = t->words + 4 * id;
    if (x[0] == w[0] && x[1] == w[1] && x[2] == w[2] && x[3] == w[3]) return id;
  }
  if (t->count >= t->capacity) return -1;
  if ((t->count + 1) * 2 > t->slotCap) {
    int32_t *slots = malloc((size_t)t->slotCap * 2 * sizeof(int32_t));
    if (slots == NULL) return -2;
    free(t->slots);
    t->slots = slots;
    t->slotCap *= 2;
    memset(t->slots, 0xff, (size_t)t->slotCap * sizeof(int32_t));
    for (int id = 0; id < t->count; id++) addresses_place(t, id);
  }
  if (t->count + 1 > t->wordCap) {
    uint32_t *words = realloc(t->words, (size_t)t->wordCap * 2 * 4 * sizeof(uint32_t));
    if (words == NULL) return -2;
    t->words = words;
    t->wordCap *= 2;
  }
  int id = t->count++;
  memcpy(t->words + 4 * id, w, 4 * sizeof(uint32_t));
  addresses_place(t, id);
  return id;
}

FlowAccount *flow_account_new(double *synRecords, int synCapacity, double *stitchWide, int32_t *stitchSmall, uint32_t *stitchIsns, int stitchCapacity) {
  FlowAccount *a = calloc(1, sizeof(FlowAccount));
  if (a == NULL) return NULL;
  a->synRecords = synRecords;
  a->synCapacity = synCapacity;
  a->stitchWide = stitchWide;
  a->stitchSmall = stitchSmall;
  a->stitchIsns = stitchIsns;
  a->stitchCapacity = stitchCapacity;
  a->firstIface = -2;
  /* The lists are allocated at their bounds: pages no entry reached are never touched. */
  a->networkOrder = malloc(MAX_REMEMBERED_NETWORKS * sizeof(double));
  a->synServerOrder = malloc((size_t)(synCapacity + 1) * sizeof(double));
  a->v6PairOrder = malloc((size_t)(synCapacity + 1) * sizeof(double));
  a->unansweredOrder = malloc((size_t)(synCapacity + 1) * sizeof(double));
  a->stitchOrder = malloc(MAX_SERVER_TEXTS * sizeof(int32_t));
  int ok = a->networkOrder && a->synServerOrder && a->v6PairOrder && a->unansweredOrder && a->stitchOrder &&
           map_init(&a->networks, 1024) && map_init(&a->synServers, 1024) && map_init(&a->v6Pairs, 1024) &&
           map_init(&a->unansweredPairs, 1024) && map_init(&a->endpoints, 1024) &&
           addresses_init(&a->v6Addresses, 2 * synCapacity) && addresses_init(&a->endpointAddresses, 1 << 30);
  if (!ok) {
    flow_account_free(a);
    return NULL;
  }
  return a;
}

void flow_account_free(FlowAccount *a) {
  if (a == NULL) return;
  map_free(&a->networks);
  map_free(&a->synServers);
  map_free(&a->v6Pairs);
  map_free(&a->unansweredPairs);
  map_free(&a->endpoints);
  addresses_free(&a->v6Addresses);
  addresses_free(&a->endpointAddresses);
  free(a->networkOrder);
  free(a->synServerOrder);
  free(a->v6PairOrder);
  free(a->unansweredOrder);
  free(a->stitchOrder);
  free(a->endpointKeys);
  free(a->completedOf);
  free(a->stitchIdOf);
  free(a->completedOrder);
  free(a);
}

/* A flow's output record, read as FlowView reads it. */
typedef struct {
  const int32_t *i;
  const uint32_t *u;
  const double *w;
  int origSide, client, server, v4;
} View;

static void see_ipv4(FlowAccount *a, double address) {
  if (address < 0 || a->networks.size >= MAX_REMEMBERED_NETWORKS) return;
  double network = (double)((uint32_t)address >> 8);
  if (map_get(&a->networks, network) >= 0) return;
  a->networkOrder[a->networks.size] = network;
  if (!map_put_new(&a->networks, network, a->networks.size)) a->failed = 1;
}

/* attemptOutcome (src/flow/attempt.ts) */
static int outcome_of(const View *v, const IcmpAnswer *icmp) {
  if (v->i[v->client + E_FIRST_KIND] != 1) return O_NONE;
  if (v->i[v->client + E_ACKED_PEER_SYN_ACK] == 1) return O_COMPLETED;
  if (v->i[v->server + E_RST_BEFORE_HANDSHAKE] == 1) return O_REJECTED;
  if (icmp != NULL && icmp->quotedSide == v->origSide) return O_REJECTED;
  if (v->i[v->server + E_SYN_ACKS] > 0) return O_SYN_ACK_LOST;
  return O_UNANSWERED;
}

static int has_first_syn(const View *v) { return v->i[S_SYN_FROM] == v->origSide + 1; }

static void words_of(const View *v, int e, uint32_t out[4]) {
  out[0] = v->u[e + E_A0];
  out[1] = v->u[e + E_A1];
  out[2] = v->u[e + E_A2];
  out[3] = v->u[e + E_A3];
}

/* responderFinFirst (src/flow/history.ts): the responder's FIN ('f') before the originator's ('F'). */
static int responder_fin_first(const uint8_t *record, const View *v, const char *spilled, int spilledLength) {
  int len = v->i[S_HIST_LEN];
  const char *h = len == HIST_SPILLED ? spilled : (const char *)record + HIST_AT;
  if (len == HIST_SPILLED) len = spilled == NULL ? 0 : spilledLength;
  for (int k = 0; k < len; k++) {
    if (h[k] == 'f') return 1;
    if (h[k] == 'F') return 0;
  }
  return 0;
}

/* AttemptLog.note */
static void note_attempt(FlowAccount *a, const uint8_t *record, const View *v, const char *spilled, int spilledLength) {
  if (!has_first_syn(v)) return;
  if (a->synCount >= a->synCapacity) {
    a->synNotRecorded++;
    return;
  }
  double client = v->v4 ? (double)v->u[v->client + E_A3] : -1;
  double server = 0;
  if (v->v4) {
    double address = v->u[v->server + E_A3];
    int known = map_get(&a->synServers, address);
    server = known >= 0 ? known : a->synServers.size;
    if (known < 0) {
      a->synServerOrder[a->synServers.size] = address;
      if (!map_put_new(&a->synServers, address, a->synServers.size)) a->failed = 1;
    }
  } else {
    uint32_t w[4];
    words_of(v, v->client, w);
    int c = address_id(&a->v6Addresses, w);
    words_of(v, v->server, w);
    int s = address_id(&a->v6Addresses, w);
    if (c == -2 || s == -2) a->failed = 1;
    double pair = (double)c * V6_PAIR_SPAN + s;
    int id = map_get(&a->v6Pairs, pair);
    if (id < 0) {
      id = a->v6Pairs.size;
      a->v6PairOrder[id] = pair;
      if (!map_put_new(&a->v6Pairs, pair, id)) a->failed = 1;
    }
    client = -1.0 - id;
  }
  int answered = v->i[S_SYN_ACK_FROM] == 2 - v->origSide;
  double *r = a->synRecords + (size_t)a->synCount++ * SYN_SIZE;
  r[SYN_CLIENT] = client;
  r[SYN_SERVER] = server;
  r[SYN_FLOW] = v->w[W_SEQ_NO];
  r[SYN_FIRST_SYN_AT] = v->w[W_SYN_AT];
  r[SYN_TS_VAL] = v->w[W_SYN_TSVAL];
  r[SYN_SYNS] = v->i[v->client + E_SYNS];
  r[SYN_ANSWERED_AT] = answered ? v->w[W_SYN_ACK_AT] : -1;
  r[SYN_LAST_SEEN] = v->w[W_LAST_SEEN];
  r[SYN_SERVER_CLOSED] = responder_fin_first(record, v, spilled, spilledLength);
  if (!answered) {
    double key = client < 0 ? client : server * TWO_32 + client;
    if (map_get(&a->unansweredPairs, key) < 0) {
      a->unansweredOrder[a->unansweredPairs.size] = key;
      if (!map_put_new(&a->unansweredPairs, key, 0)) a->failed = 1;
    }
  }
}

/* The server endpoint's index here, made when new (-1: out of memory). Key: IPv4 address or
 * IPv6 address id, times 2^17, plus port * 2, plus 1 for IPv6: exact in a double. */
static int endpoint_of(FlowAccount *a, const View *v) {
  uint32_t w[4];
  words_of(v, v->server, w);
  int port = v->i[v->server + E_PORT];
  double key;
  if (v->v4) key = (double)w[3] * 131072 + port * 2;
  else {
    int id = address_id(&a->endpointAddresses, w);
    if (id < 0) return -1;
    key = (double)id * 131072 + port * 2 + 1;
  }
  int k = map_get(&a->endpoints, key);
  if (k >= 0) return k;
  if (a->endpointCount == a->endpointCap) {
    int cap = a->endpointCap == 0 ? 1024 : a->endpointCap * 2;
    double *keys = realloc(a->endpointKeys, (size_t)cap * sizeof(double));
    if (keys == NULL) return -1;
    a->endpointKeys = keys;
    double *completed = realloc(a->completedOf, (size_t)cap * sizeof(double));
    if (completed == NULL) return -1;
    a->completedOf = completed;
    int32_t *ids = realloc(a->stitchIdOf, (size_t)cap * sizeof(int32_t));
    if (ids == NULL) return -1;
    a->stitchIdOf = ids;
    int32_t *order = realloc(a->completedOrder, (size_t)cap * sizeof(int32_t));
    if (order == NULL) return -1;
    a->completedOrder = order;
    a->endpointCap = cap;
  }
  k = a->endpointCount++;
  a->endpointKeys[k] = key;
  a->completedOf[k] = 0;
  a->stitchIdOf[k] = -1;
  if (!map_put_new(&a->endpoints, key, k)) return -1;
  return k;
}

void flow_account_endpoint(const FlowAccount *a, int k, int *version, uint32_t words[4], int *port) {
  double key = a->endpointKeys[k];
  uint64_t n = (uint64_t)key;
  *version = (n & 1) ? 6 : 4;
  *port = (int)((n >> 1) & 0xffff);
  uint64_t address = n >> 17;
  if (*version == 4) {
    words[0] = 0;
    words[1] = 0;
    words[2] = 0xffff;
    words[3] = (uint32_t)address;
  } else {
    memcpy(words, a->endpointAddresses.words + 4 * address, 4 * sizeof(uint32_t));
  }
}

/* AttemptStitcher.addView (its serverId is taken before the bound on records, as there). */
static void stitch_attempt(FlowAccount *a, const View *v, int outcome, int endpoint) {
  if (!has_first_syn(v)) return;
  int server = -1;
  if (endpoint >= 0) {
    server = a->stitchIdOf[endpoint];
    if (server < 0 && a->stitchServers < MAX_SERVER_TEXTS) {
      server = a->stitchServers++;
      a->stitchIdOf[endpoint] = server;
      a->stitchOrder[server] = endpoint;
    }
  }
  if (a->stitchCount >= a->stitchCapacity) {
    a->stitchNotRecorded++;
    return;
  }
  int iface = v->i[S_IFACE0];
  if (a->firstIface == -2) a->firstIface = iface;
  else if (iface != a->firstIface) a->severalInterfaces = 1;
  int k = a->stitchCount++;
  double *w = a->stitchWide + (size_t)k * SW_SIZE;
  w[SW_FLOW] = v->w[W_SEQ_NO];
  w[SW_FIRST_SYN_AT] = v->w[W_SYN_AT];
  w[SW_CLIENT] = v->v4 ? (double)v->u[v->client + E_A3] * 65536 + v->i[v->client + E_PORT] : -1;
  w[SW_TS_VAL] = v->w[W_SYN_TSVAL];
  int32_t *n = a->stitchSmall + (size_t)k * SN_SIZE;
  n[SN_IFACE] = iface;
  n[SN_MSS] = v->i[S_SYN_MSS];
  n[SN_WSCALE] = v->i[S_SYN_WSCALE];
  n[SN_SACK] = v->i[S_SYN_SACK] == 1 ? 1 : 0;
  n[SN_IP_ID] = v->i[S_SYN_IP_ID];
  n[SN_OUTCOME] = outcome;
  n[SN_SERVER] = server;
  a->stitchIsns[k] = v->u[S_SYN_ISN];
}

int flow_account_add(FlowAccount *a, const uint8_t *record, const char *spilled, int spilledLength, const IcmpAnswer *icmp) {
  View v;
  v.i = (const int32_t *)record;
  v.u = (const uint32_t *)record;
  v.w = (const double *)record;
  v.origSide = v.i[S_ORIG_SIDE];
  v.client = ENDPOINT_A + v.origSide * ENDPOINT_HOT;
  v.server = ENDPOINT_A + (1 - v.origSide) * ENDPOINT_HOT;
  v.v4 = v.i[S_IP_VERSION] != 6;
  a->flows++;
  see_ipv4(a, v.v4 ? (double)v.u[v.client + E_A3] : -1);
  see_ipv4(a, v.v4 ? (double)v.u[v.server + E_A3] : -1);
  int outcome = outcome_of(&v, icmp);
  if (outcome != O_NONE && outcome != O_REJECTED) note_attempt(a, record, &v, spilled, spilledLength);
  if (outcome != O_NONE) {
    int endpoint = endpoint_of(a, &v);
    if (endpoint < 0) a->failed = 1;
    stitch_attempt(a, &v, outcome, endpoint);
    a->attempted++;
    if (outcome == O_COMPLETED) {
      a->completed++;
      if (endpoint >= 0) {
        if (a->completedOf[endpoint]++ == 0) a->completedOrder[a->completedServices++] = endpoint;
      }
      /* A late answer (a SYN retransmitted before the SYN-ACK) is JavaScript's to judge. */
      return v.i[v.client + E_SYNS] > 1;
    }
    if (outcome == O_UNANSWERED) a->unanswered++;
    else if (outcome == O_REJECTED) a->rejected++;
    else a->synAckLost++;
    return 1;
  }
  if (v.i[v.client + E_SYNS] == 0 && v.i[v.server + E_SYN_ACKS] > 0) {
    /* JavaScript keeps the first ten as examples. */
    return ++a->synAckWithoutSyn <= 10;
  }
  int clientSide = v.origSide;
  if (v.w[W_PACKETS_A + clientSide] == 0 || v.w[W_PACKETS_A + 1 - clientSide] == 0) a->oneSided++;
  return 0;
}
