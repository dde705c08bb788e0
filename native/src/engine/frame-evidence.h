/*
 * What single frames say beside tracking, kept in C with the native tracker: the SYN and
 * SYN-ACK counts, handshake packets seen twice on one interface (duplicate-handshakes.ts),
 * the MACs each interface's frames showed (link-macs.ts) and the source MACs of IPv4
 * addresses (mac-sightings.ts, from handshakes and ARP). The same tables and the same
 * order as the TypeScript they port, so JavaScript takes them over at the end unchanged.
 */
#ifndef SYNSCOPE_FRAME_EVIDENCE_H
#define SYNSCOPE_FRAME_EVIDENCE_H
#include <stdint.h>

#include "decode.h"

/* MacSightings' table (capacity 2^16) and the MACs a pair shows besides its first, as many as the report lists. */
#define MAC_SLOTS_LOG2 16
#define MAC_SLOTS (1 << MAC_SLOTS_LOG2)
#define MAX_MORE_MACS 7
/* LinkMacs: MACs remembered per interface. */
#define MAX_LINK_MACS 32

typedef struct {
  double mac[MAX_MORE_MACS], packets[MAX_MORE_MACS];
  int n;
} MoreMacs;

typedef struct {
  double syns, synAcks, optionsCut, duplicates;
  /* Of the frames JavaScript does not decode again: TCP segments, with RST, with neither SYN nor RST. */
  double tcp, rsts, neither;
  /* MacSightings: key (IPv4 address * 2^16 + interface, -1 when empty), first MAC and its packets. */
  double keys[MAC_SLOTS], firstMac[MAC_SLOTS], firstCount[MAC_SLOTS];
  int32_t moreOf[MAC_SLOTS]; /* index in more, or -1 */
  MoreMacs *more;
  int moreCount, moreCap, size;
  /* LinkMacs per interface id: up to MAX_LINK_MACS MACs each, and whether it showed a unicast frame. */
  double *linkMacs;
  uint8_t *linkCount, *unicast;
  int interfaceCap;
  /* DuplicateHandshakes */
  double dupKeys[8192];
  int32_t dupWheres[8192], dupWindows[8192];
  int window;
  double windowStart;
} FrameEvidence;

/* NULL when out of memory. */
FrameEvidence *frame_evidence_create(void);
void frame_evidence_free(FrameEvidence *ev);

/*
 * One frame decoded from buf (LINKTYPE linkType), on interface `iface` at `time`.
 * Returns 1 when JavaScript must decode it again for what it keeps itself: ARP's log, decode
 * problems, frames the host sent (cooked v2), VXLAN legs, IPv6 source MACs, anything the
 * tracker does not take; 0 for a frame only the tracker needed (counted in tcp, rsts, neither).
 */
int frame_evidence_see(FrameEvidence *ev, const Pkt *p, const uint8_t *buf, int linkType, int iface, double time);

#endif
