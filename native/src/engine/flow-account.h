/*
 * What is kept of each flow as it leaves the native tracker, in C (port of the accounting
 * part of src/analysis/track.ts TrackStage.onFlow): the flow and outcome counts, the /24s
 * seen as endpoints (PacketEvidence.seeIpv4), the attempt log's records (AttemptLog.note),
 * the stitcher's records (AttemptStitcher.addView) and the completed attempts per service.
 * The attempt log's and the stitcher's records go straight into JavaScript's own arrays;
 * the tables that give their numbers (servers, IPv6 pairs) come out at the end in the order
 * JavaScript would have made them. Flows JavaScript must still see (failed attempts, late
 * answers, SYN-ACKs without a SYN) are flagged.
 */
#ifndef SYNSCOPE_FLOW_ACCOUNT_H
#define SYNSCOPE_FLOW_ACCOUNT_H
#include <stdint.h>

#include "tracker.h"

/* Open addressing over double keys (exact integers), values int32, growable; -0.5 marks an empty slot. */
typedef struct {
  double *keys;
  int32_t *values;
  int cap, size;
} NumberMap;

/* IPv6 addresses (4 words) to ids in first-seen order (AddressIds): at most `capacity`. */
typedef struct {
  uint32_t *words;
  int32_t *slots; /* -1: empty */
  int slotCap, wordCap, count, capacity;
} AddressTable;

typedef struct {
  /* Counts (TrackStage) */
  double flows, attempted, completed, unanswered, rejected, synAckLost, synAckWithoutSyn, oneSided;
  /* PacketEvidence.seeIpv4: /24s in first-seen order, at most MAX_NETWORKS */
  NumberMap networks;
  double *networkOrder;
  /* AttemptLog: JavaScript's record array (SYN_RECORD_SIZE doubles each) */
  double *synRecords;
  int synCapacity, synCount;
  double synNotRecorded;
  NumberMap synServers; /* IPv4 server → index */
  double *synServerOrder;
  AddressTable v6Addresses;
  NumberMap v6Pairs; /* pair key → id */
  double *v6PairOrder;
  NumberMap unansweredPairs;
  double *unansweredOrder;
  /* AttemptStitcher: JavaScript's arrays */
  double *stitchWide;
  int32_t *stitchSmall;
  uint32_t *stitchIsns;
  int stitchCapacity, stitchCount, firstIface, severalInterfaces;
  double stitchNotRecorded;
  /* Server endpoints (key: see endpoint_key) → their index here; per endpoint its key, its
   * stitcher id (-1: none yet, or none left) and its completed attempts. */
  AddressTable endpointAddresses;
  NumberMap endpoints;
  double *endpointKeys, *completedOf;
  int32_t *stitchIdOf;
  int endpointCount, endpointCap;
  /* Endpoint indexes by stitcher id, and in first-completed order. */
  int32_t *stitchOrder, *completedOrder;
  int stitchServers, completedServices;
  /* Out of memory: the results are incomplete, and the caller must not use them. */
  int failed;
} FlowAccount;

/* NULL when out of memory. The arrays are JavaScript's and must outlive it. */
FlowAccount *flow_account_new(double *synRecords, int synCapacity, double *stitchWide, int32_t *stitchSmall, uint32_t *stitchIsns, int stitchCapacity);
void flow_account_free(FlowAccount *a);

/* One flow's output record (and its spilled history and ICMP answer, if any); returns 1 when JavaScript must see it too. */
int flow_account_add(FlowAccount *a, const uint8_t *record, const char *spilledHistory, int spilledLength, const IcmpAnswer *icmp);

/* Endpoint k's IP version, address words and port. */
void flow_account_endpoint(const FlowAccount *a, int k, int *version, uint32_t words[4], int *port);

#endif
