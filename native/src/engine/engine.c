/*
 * N-API face of the C flow tracker (decode.c + tracker.c): JavaScript hands batches of raw
 * frames, C decodes and tracks them, and every flow that leaves the tracker is copied, in
 * emission order, into an output area of 512-byte records (the layout of
 * src/flow/flow-record.ts) that JavaScript sees as one ArrayBuffer. JavaScript binds a
 * FlowView to each output record in turn, then calls release() to hand the area back.
 *
 * The live store stays C-private: a flow's slot is released at emission exactly as in the
 * JS tracker (so slot reuse, and everything depending on it, is unchanged) and the copy is
 * what JavaScript reads. Side data of an emitted flow (spilled history, interfaces beyond
 * the first, ICMP answer) is copied too, and read through side(index) only for the records
 * whose sideFlags entry is non-zero (rare).
 *
 * Two output areas: a batch can be tracked on the engine's own thread (submit, then wait)
 * into one area while JavaScript reads the flows of the batch before it from the other, so
 * tracking runs on the second core beside the per-flow work in JavaScript. Only raw memory
 * crosses threads: the worker calls no N-API function, and JavaScript touches a batch's
 * arrays, buffers and area again only after waiting for it.
 *
 * Output capacity: maxLiveFlows + OUT_SLACK + 2 records. addBatch stops before a packet when
 * OUT_SLACK flows are waiting: one packet can emit at most every live flow (its timers) plus
 * the one it ends early or reuses, so the area never overflows. finish() needs an empty area.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "decode.h"
#include "flow-account.h"
#include "frame-evidence.h"
#include "pcap-scan.h"
#include "tracker.h"

#define OUT_SLACK 2048
/* Output areas: one being filled by a batch, one being read by JavaScript. */
#define AREAS 2
/* Most capture buffers one batch refers to (one per capture file read at once, usually one). */
#define MAX_BATCH_BUFFERS 64
/* state[]: [waiting in area 0, live flows, endedEarly, synRetransmissionsAfter, answersAfter, waiting in area 1]. */
#define STATE_SIZE 6
#define STATE_WAITING(area) ((area) == 0 ? 0 : 5)

/* A classic pcap file read by the engine (pcapScanCreate): its progress, and one buffer per output area. */
typedef struct {
  PcapScan s;
  uint8_t *buf[AREAS];
  int bufCap;
  int linkType;
  double *state; /* SCAN_STATE_SIZE numbers, see pcapScanCreate; owned by its ArrayBuffer */
  napi_ref bufRef[AREAS], stateRef;
} Scan;

#define SCAN_STATE_SIZE 12

/* One batch: frame k is bufData[bufferOf[k]] from offsets[k], lengths[k] bytes; [from, to) to do. */
typedef struct {
  const uint8_t *bufData[MAX_BATCH_BUFFERS];
  int32_t *bufferOf, *offsets, *lengths, *links, *ifaces;
  double *times;
  uint8_t *needs;
  /* The frames decoded already (pcapScanRead), or NULL: the job decodes them itself. */
  Pkt *decoded;
  int from, to, area;
} Job;

enum { SIDE_HISTORY = 1, SIDE_INTERFACES = 2, SIDE_ICMP = 4 };

typedef struct {
  char *history;
  int historyLen;
  int *ifaces;
  int nIfaces;
  IcmpAnswer icmp;
} Side;

typedef struct {
  Tracker *t;
  Pkt pkt;
  /* Per area, a file's records decoded as they were read (pcapScanRead on the JavaScript thread, beside the tracking of the other area). */
  Pkt *decoded[AREAS];
  int decodedCap, decodedCount[AREAS];
  FrameEvidence *ev;
  /* What is kept of each flow, when JavaScript asked for it in C (trackerAccountWith), else NULL. */
  FlowAccount *account;
  napi_ref accountRefs[4];
  uint8_t *out; /* AREAS * outCap records, mmapped; owned by the ArrayBuffer's finalizer */
  size_t outBytes;
  int outCap;         /* records per area */
  int area;           /* the area emitted flows go to */
  int outCount[AREAS];
  int outHigh[AREAS]; /* the most records an area ever held: side entries past it were never touched */
  int32_t *sideFlags; /* AREAS * outCap entries; owned by its ArrayBuffer's finalizer */
  Side *side;         /* AREAS * outCap entries (pointers freed at release) */
  double *state;      /* [emitted waiting in area 0, live flows, endedEarly, synRetransmissionsAfter, answersAfter, waiting in area 1] */
  napi_ref outRef, flagsRef, stateRef;
  int finished;
  /* The worker thread and the one job it may hold. */
  pthread_t thread;
  int threadStarted;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int jobReady, jobBusy, quit;
  Job job;
  int jobResult;
} Engine;

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      const napi_extended_error_info *info = NULL;                               \
      napi_get_last_error_info(env, &info);                                      \
      bool pending = false;                                                      \
      napi_is_exception_pending(env, &pending);                                  \
      if (!pending)                                                              \
        napi_throw_error(env, "ENAPI", info && info->error_message ? info->error_message : #call); \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

static void sink(Tracker *t, int slot, void *ctx) {
  Engine *e = ctx;
  int k = e->area * e->outCap + e->outCount[e->area]++;
  if (e->outCount[e->area] > e->outHigh[e->area]) e->outHigh[e->area] = e->outCount[e->area];
  memcpy(e->out + (size_t)k * RECORD_BYTES, tracker_record(t, slot), RECORD_BYTES);
  int flags = 0;
  int n;
  const char *h = tracker_spilled_history(t, slot, &n);
  if (h != NULL) {
    e->side[k].history = malloc(n);
    memcpy(e->side[k].history, h, n);
    e->side[k].historyLen = n;
    flags |= SIDE_HISTORY;
  }
  const int *ids = tracker_interfaces(t, slot, &n);
  if (ids != NULL) {
    e->side[k].ifaces = malloc(n * sizeof(int));
    memcpy(e->side[k].ifaces, ids, n * sizeof(int));
    e->side[k].nIfaces = n;
    flags |= SIDE_INTERFACES;
  }
  const IcmpAnswer *a = tracker_icmp(t, slot);
  if (a != NULL) {
    e->side[k].icmp = *a;
    flags |= SIDE_ICMP;
  }
  e->sideFlags[k] = flags;
}

/* The area's waiting count and the shared counts (JavaScript reads them only between jobs). */
static void update_state(Engine *e) {
  e->state[STATE_WAITING(e->area)] = e->outCount[e->area];
  e->state[1] = tracker_size(e->t);
  tracker_pressure(e->t, &e->state[2], &e->state[3], &e->state[4]);
}

static void free_out(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static void free_plain(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void release_side(Engine *e, int area) {
  for (int i = 0; i < e->outCount[area]; i++) {
    int k = area * e->outCap + i;
    if (e->sideFlags[k] == 0) continue;
    free(e->side[k].history);
    free(e->side[k].ifaces);
    memset(&e->side[k], 0, sizeof(Side));
    e->sideFlags[k] = 0;
  }
  e->outCount[area] = 0;
  e->state[STATE_WAITING(area)] = 0;
}

/* Decodes and tracks the job's frames, flows to its area; returns the first frame not done
 * (to, or earlier when OUT_SLACK flows wait in the area). */
static int run_job(Engine *e, Job *j) {
  e->area = j->area;
  int k = j->from;
  for (; k < j->to; k++) {
    if (e->outCount[e->area] >= OUT_SLACK) break;
    const uint8_t *buf = j->bufData[j->bufferOf[k]];
    int32_t off = j->offsets[k], len = j->lengths[k];
    Pkt *p = j->decoded != NULL ? &j->decoded[k] : &e->pkt;
    /* The frame's end bounds every read; TCP options are read within it as well. */
    if (j->decoded == NULL) decode_frame(j->links[k], buf, off, off + len, p);
    /* What DecodeStage hands FlowTracker.add: TCP, and ICMP errors quoting TCP (only these move its clock). */
    int tracked = p->transport == T_TCP || (p->transport == T_ICMP && p->icmpQuotesTcp);
    if (tracked) tracker_add(e->t, p, buf, off + len, j->times[k], j->ifaces[k]);
    /* Frames decoded as they were read had their evidence seen then (pcapScanSee). */
    if (j->decoded == NULL) j->needs[k] = frame_evidence_see(e->ev, p, buf, j->links[k], j->ifaces[k], j->times[k]);
  }
  update_state(e);
  return k;
}

/* The scan's progress, for JavaScript to read after the job. */
static void publish_scan(Scan *sc, int count) {
  const PcapScan *s = &sc->s;
  double *o = sc->state;
  o[0] = count;
  o[1] = s->ended;
  o[2] = s->error;
  o[3] = (double)s->errorOffset;
  o[4] = s->errorCaplen;
  o[5] = s->errorNumber;
  o[6] = (double)s->truncatedAt;
  o[7] = (double)s->bytesRead;
  o[8] = s->packets;
  o[9] = s->snapped;
  o[10] = s->firstAt;
  o[11] = s->lastAt;
}

static void *worker(void *arg) {
  Engine *e = arg;
  pthread_mutex_lock(&e->mu);
  for (;;) {
    while (!e->jobReady && !e->quit) pthread_cond_wait(&e->cv, &e->mu);
    if (e->quit) break;
    e->jobReady = 0;
    pthread_mutex_unlock(&e->mu);
    int k = run_job(e, &e->job);
    pthread_mutex_lock(&e->mu);
    e->jobResult = k;
    e->jobBusy = 0;
    pthread_cond_broadcast(&e->cv);
  }
  pthread_mutex_unlock(&e->mu);
  return NULL;
}

static int wait_job(Engine *e);

/* Ends the worker thread once its job is done (finish, or the engine's end). */
static void stop_worker(Engine *e) {
  if (!e->threadStarted) return;
  wait_job(e);
  pthread_mutex_lock(&e->mu);
  e->quit = 1;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
  pthread_join(e->thread, NULL);
  e->threadStarted = 0;
  e->quit = 0;
}

/* Blocks until the worker holds no job; returns the last job's result. */
static int wait_job(Engine *e) {
  if (!e->threadStarted) return e->jobResult;
  pthread_mutex_lock(&e->mu);
  while (e->jobBusy) pthread_cond_wait(&e->cv, &e->mu);
  int k = e->jobResult;
  pthread_mutex_unlock(&e->mu);
  return k;
}


static void free_engine(napi_env env, void *data, void *hint) {
  (void)hint;
  Engine *e = data;
  stop_worker(e);
  pthread_mutex_destroy(&e->mu);
  pthread_cond_destroy(&e->cv);
  /* Not release_side: sideFlags and state belong to ArrayBuffers that may be gone already
   * (at exit finalizers run in any order); unused Side entries hold NULLs. */
  for (int area = 0; area < AREAS; area++) {
    for (int k = area * e->outCap; k < area * e->outCap + e->outHigh[area]; k++) {
      free(e->side[k].history);
      free(e->side[k].ifaces);
    }
  }
  tracker_free(e->t);
  frame_evidence_free(e->ev);
  flow_account_free(e->account);
  if (e->account != NULL)
    for (int i = 0; i < 4; i++) napi_delete_reference(env, e->accountRefs[i]);
  for (int i = 0; i < AREAS; i++) free(e->decoded[i]);
  free(e->side);
  napi_delete_reference(env, e->outRef);
  napi_delete_reference(env, e->flagsRef);
  napi_delete_reference(env, e->stateRef);
  free(e);
}

static Engine *engine_of(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "not a tracker engine");
    return NULL;
  }
  return data;
}

static int get_number(napi_env env, napi_value obj, const char *name, double *out) {
  bool has = false;
  napi_value v;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return 0;
  napi_valuetype type;
  napi_typeof(env, v, &type);
  if (type == napi_boolean) {
    bool b;
    napi_get_value_bool(env, v, &b);
    *out = b;
    return 1;
  }
  if (type != napi_number) return 0;
  return napi_get_value_double(env, v, out) == napi_ok;
}

/* trackerCreate({zeekTimers, closeDelay, attemptIdleTimeout, idleTimeout, maxLiveFlows, likelyServerPorts: Int32Array})
 * -> { engine, records: ArrayBuffer, sideFlags: Int32Array, state: Float64Array } */
static napi_value tracker_create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "trackerCreate(options)");
    return NULL;
  }
  TrackerOptions o = {0, 5, 150, 300, 50000, NULL, 0};
  double v;
  if (get_number(env, argv[0], "zeekTimers", &v)) o.zeekTimers = v != 0;
  if (get_number(env, argv[0], "closeDelay", &v)) o.closeDelay = v;
  if (get_number(env, argv[0], "attemptIdleTimeout", &v)) o.attemptIdleTimeout = v;
  if (get_number(env, argv[0], "idleTimeout", &v)) o.idleTimeout = v;
  if (get_number(env, argv[0], "maxLiveFlows", &v)) {
    if (!(v >= 1 && v <= 1e8)) {
      napi_throw_range_error(env, NULL, "maxLiveFlows must be a finite number from 1 to 1e8");
      return NULL;
    }
    o.maxLiveFlows = (int)v;
  }
  bool has = false;
  napi_has_named_property(env, argv[0], "likelyServerPorts", &has);
  if (has) {
    napi_value ports;
    CHECK(napi_get_named_property(env, argv[0], "likelyServerPorts", &ports));
    napi_typedarray_type type;
    size_t length;
    void *data;
    if (napi_get_typedarray_info(env, ports, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array) {
      napi_throw_type_error(env, NULL, "likelyServerPorts must be an Int32Array");
      return NULL;
    }
    o.likelyServerPorts = data;
    o.likelyCount = (int)length;
  }

  Engine *e = calloc(1, sizeof(Engine));
  e->t = tracker_new(&o, sink, e);
  e->ev = frame_evidence_create();
  if (e->ev == NULL) {
    tracker_free(e->t);
    free(e);
    napi_throw_error(env, "ENOMEM", "cannot allocate the frame evidence");
    return NULL;
  }
  pthread_mutex_init(&e->mu, NULL);
  pthread_cond_init(&e->cv, NULL);
  e->outCap = o.maxLiveFlows + OUT_SLACK + 2;
  e->outBytes = (size_t)AREAS * e->outCap * RECORD_BYTES;
  void *m = mmap(NULL, e->outBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    tracker_free(e->t);
    frame_evidence_free(e->ev);
    free(e);
    napi_throw_error(env, "ENOMEM", "cannot map the flow output area");
    return NULL;
  }
  e->out = m;
  e->sideFlags = calloc((size_t)AREAS * e->outCap, sizeof(int32_t));
  e->side = calloc((size_t)AREAS * e->outCap, sizeof(Side));
  e->state = calloc(STATE_SIZE, sizeof(double));

  napi_value result, engine, records, flagsBuf, flags, stateBuf, state;
  CHECK(napi_create_external_arraybuffer(env, e->out, e->outBytes, free_out, (void *)(uintptr_t)e->outBytes, &records));
  CHECK(napi_create_external_arraybuffer(env, e->sideFlags, (size_t)AREAS * e->outCap * sizeof(int32_t), free_plain, NULL, &flagsBuf));
  CHECK(napi_create_typedarray(env, napi_int32_array, (size_t)AREAS * e->outCap, flagsBuf, 0, &flags));
  CHECK(napi_create_external_arraybuffer(env, e->state, STATE_SIZE * sizeof(double), free_plain, NULL, &stateBuf));
  CHECK(napi_create_typedarray(env, napi_float64_array, STATE_SIZE, stateBuf, 0, &state));
  /* The engine writes into these areas: it keeps them alive as long as it lives. */
  CHECK(napi_create_reference(env, records, 1, &e->outRef));
  CHECK(napi_create_reference(env, flagsBuf, 1, &e->flagsRef));
  CHECK(napi_create_reference(env, stateBuf, 1, &e->stateRef));
  CHECK(napi_create_external(env, e, free_engine, NULL, &engine));
  CHECK(napi_create_object(env, &result));
  CHECK(napi_set_named_property(env, result, "engine", engine));
  CHECK(napi_set_named_property(env, result, "records", records));
  CHECK(napi_set_named_property(env, result, "sideFlags", flags));
  CHECK(napi_set_named_property(env, result, "state", state));
  napi_value outCap;
  CHECK(napi_create_int32(env, e->outCap, &outCap));
  CHECK(napi_set_named_property(env, result, "areaRecords", outCap));
  update_state(e);
  return result;
}

/* The shortest of n lengths: how many frames a batch's arrays hold. */
static size_t shortest(const size_t *lengths, int n) {
  size_t min = lengths[0];
  for (int i = 1; i < n; i++)
    if (lengths[i] < min) min = lengths[i];
  return min;
}

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok || type != want) return 0;
  return 1;
}

/* Reads the arguments of trackerAddBatch/trackerSubmit into a job, checking every frame
 * against its buffer; returns the engine, or NULL with an exception pending. */
static Engine *job_from_args(napi_env env, napi_callback_info info, Job *j) {
  size_t argc = 13;
  napi_value argv[13];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 12) {
    napi_throw_type_error(env, NULL, "(engine, buffers, bufferOf, offsets, lengths, linkTypes, times, ifaces, needs, from, to, area, decoded?)");
    return NULL;
  }
  Engine *e = engine_of(env, argv[0]);
  if (e == NULL) return NULL;
  if (e->finished) {
    napi_throw_error(env, "EFINISHED", "tracker finished");
    return NULL;
  }
  uint32_t nBuffers = 0;
  bool isArray = false;
  if (napi_is_array(env, argv[1], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[1], &nBuffers) != napi_ok ||
      nBuffers > MAX_BATCH_BUFFERS) {
    napi_throw_type_error(env, NULL, "buffers must be an array of at most 64 Buffers");
    return NULL;
  }
  size_t bufLen[MAX_BATCH_BUFFERS];
  for (uint32_t i = 0; i < nBuffers; i++) {
    napi_value b;
    void *data = NULL;
    if (napi_get_element(env, argv[1], i, &b) != napi_ok || napi_get_buffer_info(env, b, &data, &bufLen[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "buffers must be an array of Buffers");
      return NULL;
    }
    j->bufData[i] = data;
  }
  size_t n[7];
  if (!typed(env, argv[2], napi_int32_array, (void **)&j->bufferOf, &n[0]) ||
      !typed(env, argv[3], napi_int32_array, (void **)&j->offsets, &n[1]) ||
      !typed(env, argv[4], napi_int32_array, (void **)&j->lengths, &n[2]) ||
      !typed(env, argv[5], napi_int32_array, (void **)&j->links, &n[3]) ||
      !typed(env, argv[6], napi_float64_array, (void **)&j->times, &n[4]) ||
      !typed(env, argv[7], napi_int32_array, (void **)&j->ifaces, &n[5]) ||
      !typed(env, argv[8], napi_uint8_array, (void **)&j->needs, &n[6])) {
    napi_throw_type_error(env, NULL, "bufferOf, offsets, lengths, linkTypes, ifaces must be Int32Arrays, times a Float64Array and needs a Uint8Array");
    return NULL;
  }
  int32_t from, to, area;
  if (napi_get_value_int32(env, argv[9], &from) != napi_ok || napi_get_value_int32(env, argv[10], &to) != napi_ok ||
      napi_get_value_int32(env, argv[11], &area) != napi_ok) {
    napi_throw_type_error(env, NULL, "from, to and area must be numbers");
    return NULL;
  }
  size_t min = shortest(n, 7);
  if (from < 0 || to < from || (size_t)to > min || area < 0 || area >= AREAS) {
    napi_throw_range_error(env, NULL, "from/to outside the batch arrays, or no such area");
    return NULL;
  }
  for (int k = from; k < to; k++) {
    int32_t b = j->bufferOf[k], off = j->offsets[k], len = j->lengths[k];
    if (b < 0 || (uint32_t)b >= nBuffers || off < 0 || len < 0 || (size_t)off + (size_t)len > bufLen[b]) {
      napi_throw_range_error(env, NULL, "frame outside its buffer");
      return NULL;
    }
  }
  bool decoded = false;
  if (argc >= 13) napi_get_value_bool(env, argv[12], &decoded);
  if (decoded && to > e->decodedCount[area]) {
    napi_throw_range_error(env, NULL, "decoded: the area holds fewer decoded frames");
    return NULL;
  }
  j->decoded = decoded ? e->decoded[area] : NULL;
  j->from = from;
  j->to = to;
  j->area = area;
  return e;
}

/* trackerAddBatch(engine, buffers: Buffer[], bufferOf: Int32Array, offsets: Int32Array, lengths: Int32Array,
 *                 linkTypes: Int32Array, times: Float64Array, ifaces: Int32Array, needs: Uint8Array, from, to, area)
 *   -> index of the first frame not done (to, or earlier when the area holds OUT_SLACK flows:
 *   release() them and call again from there).
 * Frame k is buffers[bufferOf[k]][offsets[k], offsets[k] + lengths[k]). needs[k] is set as
 * frame_evidence_see says: 1 for a frame JavaScript must decode itself, 0 for one only the tracker needed.
 * Flows that leave the tracker go to output area `area`. With `decoded` true, the frames are those
 * pcapScanRead(..., engine) read into this area and decoded already. Runs on the calling thread. */
static napi_value tracker_add_batch(napi_env env, napi_callback_info info) {
  Job j;
  Engine *e = job_from_args(env, info, &j);
  if (e == NULL) return NULL;
  wait_job(e);
  napi_value r;
  CHECK(napi_create_int32(env, run_job(e, &j), &r));
  return r;
}

/* Hands the job to the engine's thread (after the one it holds), starting it the first time. */
static void submit(Engine *e, const Job *j) {
  wait_job(e);
  if (!e->threadStarted) {
    if (pthread_create(&e->thread, NULL, worker, e) != 0) {
      /* No thread to be had: the work is done here, and trackerWait returns its result. */
      Job copy = *j;
      e->jobResult = run_job(e, &copy);
      return;
    }
    e->threadStarted = 1;
  }
  pthread_mutex_lock(&e->mu);
  e->job = *j;
  e->jobReady = 1;
  e->jobBusy = 1;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
}

/* trackerSubmit(the arguments of trackerAddBatch): the same work on the engine's thread; returns at once.
 * Until trackerWait returns, the caller leaves the batch's arrays, buffers and area alone. */
static napi_value tracker_submit(napi_env env, napi_callback_info info) {
  Job j;
  Engine *e = job_from_args(env, info, &j);
  if (e == NULL) return NULL;
  submit(e, &j);
  return NULL;
}

/* trackerWait(engine) -> what the submitted job returned (as trackerAddBatch). */
static napi_value tracker_wait(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Engine *e = engine_of(env, argv[0]);
  if (e == NULL) return NULL;
  napi_value r;
  CHECK(napi_create_int32(env, wait_job(e), &r));
  return r;
}

/* trackerRelease(engine, area): the area's waiting output records were read; it is reused. */
static napi_value tracker_release(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Engine *e = engine_of(env, argv[0]);
  if (e == NULL) return NULL;
  int32_t area = -1;
  if (argc < 2 || napi_get_value_int32(env, argv[1], &area) != napi_ok || area < 0 || area >= AREAS) {
    napi_throw_range_error(env, NULL, "trackerRelease(engine, area): no such area");
    return NULL;
  }
  release_side(e, area);
  return NULL;
}

/* trackerFinish(engine) -> flows left: the live flows to output area 0, in creation order, at most
 * OUT_SLACK a call; release() the area and call again until it returns 0. Needs area 0 empty. */
static napi_value tracker_finish_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Engine *e = engine_of(env, argv[0]);
  if (e == NULL) return NULL;
  /* No batch comes after finish: the thread is not kept until the engine is collected. */
  stop_worker(e);
  if (e->outCount[0] != 0) {
    napi_throw_error(env, "EPENDING", "release() area 0 before finish()");
    return NULL;
  }
  e->finished = 1;
  /* The live flows go to area 0, OUT_SLACK at a time (an area of them all would be touched whole at the end of a flood). */
  e->area = 0;
  int left = tracker_finish_step(e->t, OUT_SLACK);
  update_state(e);
  napi_value r;
  CHECK(napi_create_int32(env, left, &r));
  return r;
}

/* trackerSide(engine, index) -> { history?: string, interfaces?: number[], icmp?: {...} } for output record
 * `index` (area * areaRecords + its place in the area). */
static napi_value tracker_side(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Engine *e = engine_of(env, argv[0]);
  if (e == NULL) return NULL;
  int32_t k;
  CHECK(napi_get_value_int32(env, argv[1], &k));
  if (k < 0 || k >= AREAS * e->outCap || k % e->outCap >= e->outCount[k / e->outCap]) {
    napi_throw_range_error(env, NULL, "no such output record");
    return NULL;
  }
  napi_value r, v;
  CHECK(napi_create_object(env, &r));
  int flags = e->sideFlags[k];
  Side *s = &e->side[k];
  if (flags & SIDE_HISTORY) {
    CHECK(napi_create_string_latin1(env, s->history, s->historyLen, &v));
    CHECK(napi_set_named_property(env, r, "history", v));
  }
  if (flags & SIDE_INTERFACES) {
    CHECK(napi_create_array_with_length(env, s->nIfaces, &v));
    for (int i = 0; i < s->nIfaces; i++) {
      napi_value id;
      CHECK(napi_create_int32(env, s->ifaces[i], &id));
      CHECK(napi_set_element(env, v, i, id));
    }
    CHECK(napi_set_named_property(env, r, "interfaces", v));
  }
  if (flags & SIDE_ICMP) {
    napi_value icmp, fromBuf, from, x;
    CHECK(napi_create_object(env, &icmp));
    void *words;
    CHECK(napi_create_arraybuffer(env, 16, &words, &fromBuf));
    memcpy(words, s->icmp.from, 16);
    CHECK(napi_create_typedarray(env, napi_uint32_array, 4, fromBuf, 0, &from));
    CHECK(napi_set_named_property(env, icmp, "from", from));
    CHECK(napi_create_int32(env, s->icmp.quotedSide, &x));
    CHECK(napi_set_named_property(env, icmp, "quotedSide", x));
    CHECK(napi_create_int32(env, s->icmp.fromVersion, &x));
    CHECK(napi_set_named_property(env, icmp, "fromVersion", x));
    CHECK(napi_create_int32(env, s->icmp.type, &x));
    CHECK(napi_set_named_property(env, icmp, "type", x));
    CHECK(napi_create_int32(env, s->icmp.code, &x));
    CHECK(napi_set_named_property(env, icmp, "code", x));
    CHECK(napi_set_named_property(env, r, "icmp", icmp));
  }
  return r;
}

static void free_scan(napi_env env, void *data, void *hint) {
  (void)hint;
  Scan *sc = data;
  for (int i = 0; i < AREAS; i++) napi_delete_reference(env, sc->bufRef[i]);
  napi_delete_reference(env, sc->stateRef);
  free(sc);
}

static Scan *scan_of(napi_env env, napi_value v) {
  Scan *sc = NULL;
  if (napi_get_value_external(env, v, (void **)&sc) != napi_ok || sc == NULL) {
    napi_throw_type_error(env, NULL, "not a pcap scan");
    return NULL;
  }
  return sc;
}

/* pcapScanCreate({fd, position, littleEndian, nanosecond, lengthOrder, snaplen, maxCaplen, linkType}, buffers: [Buffer, Buffer])
 *   -> { scan, state: Float64Array }
 * A classic pcap file whose header PcapReader checked, to be read from `position` by pcapScanRead,
 * batch i into buffers[i] (each at least 16 + maxCaplen bytes; the caller keeps them). state, after each
 * scan job: [records in the batch, ended, error (1 caplen over maxCaplen, 2 read failed), its record's
 * file offset, its caplen, errno, truncatedAt (-1: none), bytesRead, packets, snapped, firstAt, lastAt]. */
static napi_value pcap_scan_create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool isArray = false;
  uint32_t nBuffers = 0;
  if (argc < 2 || napi_is_array(env, argv[1], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[1], &nBuffers) != napi_ok ||
      nBuffers != AREAS) {
    napi_throw_type_error(env, NULL, "pcapScanCreate(format, [Buffer, Buffer])");
    return NULL;
  }
  double fd, position, little, nano, order, snaplen, maxCaplen, linkType;
  if (!get_number(env, argv[0], "fd", &fd) || !get_number(env, argv[0], "position", &position) || !get_number(env, argv[0], "littleEndian", &little) ||
      !get_number(env, argv[0], "nanosecond", &nano) || !get_number(env, argv[0], "lengthOrder", &order) || !get_number(env, argv[0], "snaplen", &snaplen) ||
      !get_number(env, argv[0], "maxCaplen", &maxCaplen) || !get_number(env, argv[0], "linkType", &linkType) || !(fd >= 0) || !(position >= 0) ||
      !(maxCaplen >= 0 && maxCaplen <= 1 << 30) || !(snaplen >= 0 && snaplen <= maxCaplen) || !(order >= 0 && order <= 2)) {
    napi_throw_type_error(env, NULL, "pcapScanCreate: fd, position, littleEndian, nanosecond, lengthOrder, snaplen, maxCaplen, linkType");
    return NULL;
  }
  Scan *sc = calloc(1, sizeof(Scan));
  napi_value buffers[AREAS];
  for (uint32_t i = 0; i < AREAS; i++) {
    void *data = NULL;
    size_t len = 0;
    if (napi_get_element(env, argv[1], i, &buffers[i]) != napi_ok || napi_get_buffer_info(env, buffers[i], &data, &len) != napi_ok) {
      free(sc);
      napi_throw_type_error(env, NULL, "pcapScanCreate: buffers must be Buffers");
      return NULL;
    }
    /* A record, header and all, must fit in one buffer: else a batch could never hold it. */
    if (len < 16 + (size_t)maxCaplen || len > (size_t)1 << 30) {
      free(sc);
      napi_throw_range_error(env, NULL, "pcapScanCreate: each buffer needs 16 + maxCaplen bytes (at most 1 GiB)");
      return NULL;
    }
    sc->buf[i] = data;
    if (i == 0 || (int)len < sc->bufCap) sc->bufCap = (int)len;
  }
  PcapFormat f = {(int)fd, little != 0, nano != 0, (int)order, (uint32_t)snaplen, (uint32_t)maxCaplen};
  pcap_scan_init(&sc->s, &f, (int64_t)position);
  sc->linkType = (int)linkType;
  sc->state = calloc(SCAN_STATE_SIZE, sizeof(double));
  napi_value result, scan, stateBuf, state;
  CHECK(napi_create_external_arraybuffer(env, sc->state, SCAN_STATE_SIZE * sizeof(double), free_plain, NULL, &stateBuf));
  CHECK(napi_create_typedarray(env, napi_float64_array, SCAN_STATE_SIZE, stateBuf, 0, &state));
  for (int i = 0; i < AREAS; i++) CHECK(napi_create_reference(env, buffers[i], 1, &sc->bufRef[i]));
  CHECK(napi_create_reference(env, stateBuf, 1, &sc->stateRef));
  publish_scan(sc, 0);
  CHECK(napi_create_external(env, sc, free_scan, NULL, &scan));
  CHECK(napi_create_object(env, &result));
  CHECK(napi_set_named_property(env, result, "scan", scan));
  CHECK(napi_set_named_property(env, result, "state", state));
  return result;
}

/* pcapScanRead(scan, bufferOf, offsets, lengths, linkTypes, times, ifaces, area, iface, ifindexes) -> records read:
 * the file's next records (as many as the arrays hold, or buffers[area] does), frame k being buffers[area]
 * from offsets[k], lengths[k] bytes (bufferOf[k] 0, ifaces[k] iface), and for a cooked v2 file
 * ifindexes[k] the interface index its header names (-1 when cut before it); then the scan's state says
 * where it is. With `engine`, the records are decoded for it as well (trackerSubmit with decoded true).
 * Runs on the calling thread; reads buffers[area ^ 1], written by the call before, for the
 * start of the next record, so keep that one as it is. */
static napi_value pcap_scan_read(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 10) {
    napi_throw_type_error(env, NULL, "(scan, bufferOf, offsets, lengths, linkTypes, times, ifaces, area, iface, ifindexes, engine?)");
    return NULL;
  }
  Scan *sc = scan_of(env, argv[0]);
  if (sc == NULL) return NULL;
  int32_t *bufferOf, *offsets, *lengths, *links, *ifaces;
  double *times, *ifindexes;
  size_t lengthsOf[7];
  if (!typed(env, argv[1], napi_int32_array, (void **)&bufferOf, &lengthsOf[0]) || !typed(env, argv[2], napi_int32_array, (void **)&offsets, &lengthsOf[1]) ||
      !typed(env, argv[3], napi_int32_array, (void **)&lengths, &lengthsOf[2]) || !typed(env, argv[4], napi_int32_array, (void **)&links, &lengthsOf[3]) ||
      !typed(env, argv[5], napi_float64_array, (void **)&times, &lengthsOf[4]) || !typed(env, argv[6], napi_int32_array, (void **)&ifaces, &lengthsOf[5]) ||
      !typed(env, argv[9], napi_float64_array, (void **)&ifindexes, &lengthsOf[6])) {
    napi_throw_type_error(env, NULL, "bufferOf, offsets, lengths, linkTypes, ifaces must be Int32Arrays, times and ifindexes Float64Arrays");
    return NULL;
  }
  int32_t area, iface;
  if (napi_get_value_int32(env, argv[7], &area) != napi_ok || napi_get_value_int32(env, argv[8], &iface) != napi_ok || area < 0 || area >= AREAS) {
    napi_throw_type_error(env, NULL, "area must be 0 or 1 and iface a number");
    return NULL;
  }
  ScanBatch b = {sc->buf[area], sc->bufCap, offsets, lengths, times, (int)shortest(lengthsOf, 7)};
  Engine *e = NULL;
  if (argc >= 11 && napi_get_value_external(env, argv[10], (void **)&e) == napi_ok && e != NULL && e->decodedCap < b.capacity) {
    for (int i = 0; i < AREAS; i++) {
      free(e->decoded[i]);
      e->decoded[i] = malloc((size_t)b.capacity * sizeof(Pkt));
    }
    e->decodedCap = e->decoded[0] != NULL && e->decoded[1] != NULL ? b.capacity : 0;
    if (e->decodedCap == 0) {
      napi_throw_error(env, "ENOMEM", "pcapScanRead: out of memory");
      return NULL;
    }
  }
  int n = pcap_scan_next(&sc->s, &b);
  for (int k = 0; k < n; k++) {
    bufferOf[k] = 0;
    links[k] = sc->linkType;
    ifaces[k] = iface;
  }
  if (e != NULL) {
    /* Decoded here, while the engine's thread tracks the other area: only this area's frames are touched. */
    for (int k = 0; k < n; k++) decode_frame(sc->linkType, b.buf, offsets[k], offsets[k] + lengths[k], &e->decoded[area][k]);
    e->decodedCount[area] = n;
  }
  if (sc->linkType == LINKTYPE_LINUX_SLL2) {
    const uint8_t *buf = sc->buf[area];
    for (int k = 0; k < n; k++) {
      const uint8_t *h = buf + offsets[k];
      ifindexes[k] = lengths[k] >= 20 ? (double)((uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7]) : -1;
    }
  }
  publish_scan(sc, n);
  napi_value r;
  CHECK(napi_create_int32(env, n, &r));
  return r;
}

/* A new typed array of `type` holding a copy of n elements of `size` bytes at `from`; NULL when it cannot be made. */
static napi_value copy_array(napi_env env, napi_typedarray_type type, const void *from, size_t n, size_t size) {
  napi_value buffer, array;
  void *data;
  if (napi_create_arraybuffer(env, n * size, &data, &buffer) != napi_ok) return NULL;
  if (n > 0) memcpy(data, from, n * size);
  if (napi_create_typedarray(env, type, n, buffer, 0, &array) != napi_ok) return NULL;
  return array;
}

/* trackerEvidence(engine) -> { counts: [SYNs, SYN-ACKs, handshakes with options cut, duplicate handshakes,
 * and of the frames JavaScript did not decode: TCP segments, with RST, with neither SYN nor RST],
 * macKeys, macFirst, macPackets: MacSightings' slots, macMore: [slot, n, (MAC, packets) x n]...,
 * links: [interface, unicast, n, MAC x n]... } of every frame tracked so far (frame-evidence.h). */
static napi_value tracker_evidence(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Engine *e = engine_of(env, argv[0]);
  if (e == NULL) return NULL;
  wait_job(e);
  const FrameEvidence *ev = e->ev;
  double counts[7] = {ev->syns, ev->synAcks, ev->optionsCut, ev->duplicates, ev->tcp, ev->rsts, ev->neither};
  size_t moreLength = 0, linksLength = 0;
  for (int i = 0; i < MAC_SLOTS; i++)
    if (ev->moreOf[i] >= 0) moreLength += 2 + 2 * ev->more[ev->moreOf[i]].n;
  for (int i = 0; i < ev->interfaceCap; i++)
    if (ev->linkCount[i] > 0) linksLength += 3 + ev->linkCount[i];
  double *more = malloc((moreLength + linksLength + 1) * sizeof(double));
  if (more == NULL) {
    napi_throw_error(env, "ENOMEM", "trackerEvidence: out of memory");
    return NULL;
  }
  double *links = more + moreLength;
  size_t m = 0, l = 0;
  for (int i = 0; i < MAC_SLOTS; i++) {
    if (ev->moreOf[i] < 0) continue;
    const MoreMacs *x = &ev->more[ev->moreOf[i]];
    more[m++] = i;
    more[m++] = x->n;
    for (int j = 0; j < x->n; j++) {
      more[m++] = x->mac[j];
      more[m++] = x->packets[j];
    }
  }
  for (int i = 0; i < ev->interfaceCap; i++) {
    if (ev->linkCount[i] == 0) continue;
    links[l++] = i;
    links[l++] = ev->unicast[i];
    links[l++] = ev->linkCount[i];
    for (int j = 0; j < ev->linkCount[i]; j++) links[l++] = ev->linkMacs[(size_t)i * MAX_LINK_MACS + j];
  }
  napi_value result, v;
  CHECK(napi_create_object(env, &result));
  const char *names[] = {"counts", "macKeys", "macFirst", "macPackets", "macMore", "links"};
  const double *arrays[] = {counts, ev->keys, ev->firstMac, ev->firstCount, more, links};
  size_t lengths[] = {7, MAC_SLOTS, MAC_SLOTS, MAC_SLOTS, moreLength, linksLength};
  for (int i = 0; i < 6; i++) {
    v = copy_array(env, napi_float64_array, arrays[i], lengths[i], sizeof(double));
    if (v == NULL || napi_set_named_property(env, result, names[i], v) != napi_ok) {
      free(more);
      napi_throw_error(env, "ENAPI", "trackerEvidence: cannot build the result");
      return NULL;
    }
  }
  free(more);
  return result;
}

/* pcapScanSee(scan, engine, area, offsets, lengths, ifaces, times, needs, count): the frame evidence of the
 * records pcapScanRead(..., engine) read and decoded into `area`, once JavaScript gave them their interfaces;
 * needs[k] as trackerAddBatch sets it. Runs on the calling thread, beside the tracking of the other area. */
static napi_value pcap_scan_see(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 9) {
    napi_throw_type_error(env, NULL, "(scan, engine, area, offsets, lengths, ifaces, times, needs, count)");
    return NULL;
  }
  Scan *sc = scan_of(env, argv[0]);
  if (sc == NULL) return NULL;
  Engine *e = engine_of(env, argv[1]);
  if (e == NULL) return NULL;
  int32_t area, count, *offsets, *lengths, *ifaces;
  double *times;
  uint8_t *needs;
  size_t n[5];
  if (napi_get_value_int32(env, argv[2], &area) != napi_ok || napi_get_value_int32(env, argv[8], &count) != napi_ok ||
      !typed(env, argv[3], napi_int32_array, (void **)&offsets, &n[0]) || !typed(env, argv[4], napi_int32_array, (void **)&lengths, &n[1]) ||
      !typed(env, argv[5], napi_int32_array, (void **)&ifaces, &n[2]) || !typed(env, argv[6], napi_float64_array, (void **)&times, &n[3]) ||
      !typed(env, argv[7], napi_uint8_array, (void **)&needs, &n[4])) {
    napi_throw_type_error(env, NULL, "area and count numbers; offsets, lengths, ifaces Int32Arrays, times a Float64Array, needs a Uint8Array");
    return NULL;
  }
  if (area < 0 || area >= AREAS || count < 0 || count > e->decodedCount[area] || (size_t)count > shortest(n, 5)) {
    napi_throw_range_error(env, NULL, "pcapScanSee: no such area, or more records than it decoded");
    return NULL;
  }
  const uint8_t *buf = sc->buf[area];
  for (int k = 0; k < count; k++)
    needs[k] = frame_evidence_see(e->ev, &e->decoded[area][k], buf, sc->linkType, ifaces[k], times[k]);
  return NULL;
}

/* trackerAccountWith(engine, synRecords: Float64Array, stitchWide: Float64Array, stitchSmall: Int32Array, stitchIsns: Uint32Array):
 * from now on trackerAccount keeps what JavaScript keeps of each flow (flow-account.h), writing the attempt
 * log's and the stitcher's records into these arrays (AttemptLog's and AttemptStitcher's own). */
static napi_value tracker_account_with(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "(engine, synRecords, stitchWide, stitchSmall, stitchIsns)");
    return NULL;
  }
  Engine *e = engine_of(env, argv[0]);
  if (e == NULL) return NULL;
  double *syn, *wide;
  int32_t *small;
  uint32_t *isns;
  size_t n[4];
  if (!typed(env, argv[1], napi_float64_array, (void **)&syn, &n[0]) || !typed(env, argv[2], napi_float64_array, (void **)&wide, &n[1]) ||
      !typed(env, argv[3], napi_int32_array, (void **)&small, &n[2]) || !typed(env, argv[4], napi_uint32_array, (void **)&isns, &n[3])) {
    napi_throw_type_error(env, NULL, "synRecords and stitchWide Float64Arrays, stitchSmall an Int32Array, stitchIsns a Uint32Array");
    return NULL;
  }
  /* Record sizes: AttemptLog's SynRecord.SIZE, AttemptStitcher's W.SIZE and N.SIZE. */
  size_t stitchRecords = n[3];
  if (n[1] / 4 < stitchRecords) stitchRecords = n[1] / 4;
  if (n[2] / 7 < stitchRecords) stitchRecords = n[2] / 7;
  if (e->account != NULL || n[0] / 9 > (1 << 24) || stitchRecords > (1 << 24)) {
    napi_throw_error(env, "EINVAL", "trackerAccountWith: called twice, or arrays too large");
    return NULL;
  }
  FlowAccount *a = flow_account_new(syn, (int)(n[0] / 9), wide, small, isns, (int)stitchRecords);
  if (a == NULL) {
    napi_throw_error(env, "ENOMEM", "trackerAccountWith: out of memory");
    return NULL;
  }
  for (int i = 0; i < 4; i++) CHECK(napi_create_reference(env, argv[1 + i], 1, &e->accountRefs[i]));
  e->account = a;
  return NULL;
}

/* trackerAccount(engine, area, wanted: Int32Array) -> n: what is kept of every flow waiting in the area
 * (trackerAccountWith), in emission order; the output indexes of the flows JavaScript must see too go to
 * wanted[0..n). Call it before release(area). */
static napi_value tracker_account(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "(engine, area, wanted)");
    return NULL;
  }
  Engine *e = engine_of(env, argv[0]);
  if (e == NULL) return NULL;
  int32_t area;
  int32_t *wanted;
  size_t cap;
  if (napi_get_value_int32(env, argv[1], &area) != napi_ok || area < 0 || area >= AREAS || !typed(env, argv[2], napi_int32_array, (void **)&wanted, &cap)) {
    napi_throw_type_error(env, NULL, "area 0 or 1, wanted an Int32Array");
    return NULL;
  }
  if (e->account == NULL || (size_t)e->outCount[area] > cap) {
    napi_throw_error(env, "EINVAL", "trackerAccount: no trackerAccountWith, or wanted shorter than the area");
    return NULL;
  }
  int n = 0;
  for (int i = 0; i < e->outCount[area]; i++) {
    int k = area * e->outCap + i;
    const Side *side = e->sideFlags[k] != 0 ? &e->side[k] : NULL;
    const char *history = side != NULL && (e->sideFlags[k] & SIDE_HISTORY) ? side->history : NULL;
    const IcmpAnswer *icmp = side != NULL && (e->sideFlags[k] & SIDE_ICMP) ? &side->icmp : NULL;
    if (flow_account_add(e->account, e->out + (size_t)k * RECORD_BYTES, history, history != NULL ? side->historyLen : 0, icmp)) wanted[n++] = k;
  }
  if (e->account->failed) {
    napi_throw_error(env, "ENOMEM", "trackerAccount: out of memory");
    return NULL;
  }
  napi_value r;
  CHECK(napi_create_int32(env, n, &r));
  return r;
}

/* Endpoints as [version, word0..3, port(, count)] each, by index list. */
static double *endpoint_list(const FlowAccount *a, const int32_t *indexes, int n, int withCount, size_t *length) {
  int per = withCount ? 7 : 6;
  double *out = malloc(((size_t)n * per + 1) * sizeof(double));
  if (out == NULL) return NULL;
  for (int j = 0; j < n; j++) {
    int version, port;
    uint32_t w[4];
    flow_account_endpoint(a, indexes[j], &version, w, &port);
    double *o = out + (size_t)j * per;
    o[0] = version;
    for (int q = 0; q < 4; q++) o[1 + q] = w[q];
    o[5] = port;
    if (withCount) o[6] = a->completedOf[indexes[j]];
  }
  *length = (size_t)n * per;
  return out;
}

/* trackerAccounts(engine) -> everything trackerAccount kept (see NativeFlowAccounts in native-tracker.ts). */
static napi_value tracker_accounts(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Engine *e = engine_of(env, argv[0]);
  if (e == NULL) return NULL;
  const FlowAccount *a = e->account;
  if (a == NULL) {
    napi_throw_error(env, "EINVAL", "trackerAccounts: no trackerAccountWith");
    return NULL;
  }
  double counts[14] = {a->flows, a->attempted, a->completed, a->unanswered, a->rejected, a->synAckLost, a->synAckWithoutSyn, a->oneSided,
                       a->synCount, a->synNotRecorded, a->stitchCount, a->stitchNotRecorded, a->firstIface, a->severalInterfaces};
  size_t stitchLength = 0, completedLength = 0;
  double *stitch = endpoint_list(a, a->stitchOrder, a->stitchServers, 0, &stitchLength);
  double *completed = endpoint_list(a, a->completedOrder, a->completedServices, 1, &completedLength);
  napi_value result, v;
  CHECK(napi_create_object(env, &result));
  const char *names[] = {"counts", "networks", "synServers", "v6Pairs", "unansweredPairs", "stitchServers", "completedServices"};
  const double *arrays[] = {counts, a->networkOrder, a->synServerOrder, a->v6PairOrder, a->unansweredOrder, stitch, completed};
  size_t lengths[] = {14, (size_t)a->networks.size, (size_t)a->synServers.size, (size_t)a->v6Pairs.size, (size_t)a->unansweredPairs.size, stitchLength, completedLength};
  int ok = stitch != NULL && completed != NULL;
  for (int i = 0; ok && i < 7; i++) {
    v = copy_array(env, napi_float64_array, arrays[i], lengths[i], sizeof(double));
    ok = v != NULL && napi_set_named_property(env, result, names[i], v) == napi_ok;
  }
  if (ok) {
    v = copy_array(env, napi_uint32_array, a->v6Addresses.words, 4 * (size_t)a->v6Addresses.count, sizeof(uint32_t));
    ok = v != NULL && napi_set_named_property(env, result, "v6Words", v) == napi_ok;
  }
  free(stitch);
  free(completed);
  if (!ok) {
    napi_throw_error(env, "ENAPI", "trackerAccounts: cannot build the result");
    return NULL;
  }
  return result;
}

napi_value engine_init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"trackerCreate", NULL, tracker_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerAddBatch", NULL, tracker_add_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerSubmit", NULL, tracker_submit, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerWait", NULL, tracker_wait, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerRelease", NULL, tracker_release, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerFinish", NULL, tracker_finish_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerSide", NULL, tracker_side, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerEvidence", NULL, tracker_evidence, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerAccountWith", NULL, tracker_account_with, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerAccount", NULL, tracker_account, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trackerAccounts", NULL, tracker_accounts, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pcapScanCreate", NULL, pcap_scan_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pcapScanRead", NULL, pcap_scan_read, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pcapScanSee", NULL, pcap_scan_see, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  return exports;
}
