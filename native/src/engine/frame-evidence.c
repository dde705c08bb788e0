/* Port of the per-frame parts of src/analysis/decode.ts (handOn) and packet-evidence.ts; see frame-evidence.h. */
#include "frame-evidence.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DUP_SLOTS 8192
#define DUP_PROBES 16
/* A copy of a handshake packet this soon after the first, on the same interface, is the same packet seen at another hop. */
#define SAME_PACKET_SECONDS 0.01
/* Interface ids are below 2^16 (MacSightings keys hold them in 16 bits). */
#define MAX_INTERFACES 65536

FrameEvidence *frame_evidence_create(void) {
  FrameEvidence *ev = calloc(1, sizeof(FrameEvidence));
  if (ev == NULL) return NULL;
  for (int i = 0; i < MAC_SLOTS; i++) {
    ev->keys[i] = -1;
    ev->moreOf[i] = -1;
  }
  ev->window = 1;
  ev->windowStart = -INFINITY;
  return ev;
}

void frame_evidence_free(FrameEvidence *ev) {
  if (ev == NULL) return;
  free(ev->more);
  free(ev->linkMacs);
  free(ev->linkCount);
  free(ev->unicast);
  free(ev);
}

static double mac_at(const uint8_t *b) {
  uint64_t m = 0;
  for (int i = 0; i < 6; i++) m = (m << 8) | b[i];
  return (double)m;
}

/* MacSightings.note: homeSlot is Fibonacci hashing of the key's two 32-bit halves. */
static void note_mac(FrameEvidence *ev, double key, double mac) {
  uint64_t k = (uint64_t)key;
  uint32_t i = ((uint32_t)k ^ (uint32_t)(k >> 32)) * 0x9e3779b1u >> (32 - MAC_SLOTS_LOG2);
  for (;;) {
    double at = ev->keys[i];
    if (at == key) break;
    if (at == -1) {
      if (ev->size >= MAC_SLOTS * 3 / 4) return;
      ev->keys[i] = key;
      ev->firstMac[i] = mac;
      ev->size++;
      break;
    }
    i = (i + 1) & (MAC_SLOTS - 1);
  }
  if (ev->firstMac[i] == mac) {
    ev->firstCount[i]++;
    return;
  }
  if (ev->moreOf[i] < 0) {
    if (ev->moreCount == ev->moreCap) {
      int cap = ev->moreCap == 0 ? 64 : ev->moreCap * 2;
      MoreMacs *grown = realloc(ev->more, (size_t)cap * sizeof(MoreMacs));
      if (grown == NULL) return;
      ev->more = grown;
      ev->moreCap = cap;
    }
    ev->more[ev->moreCount].n = 0;
    ev->moreOf[i] = ev->moreCount++;
  }
  MoreMacs *m = &ev->more[ev->moreOf[i]];
  for (int j = 0; j < m->n; j++) {
    if (m->mac[j] == mac) {
      m->packets[j]++;
      return;
    }
  }
  /* Past the MACs the report lists, a pair's further MACs are not kept. */
  if (m->n == MAX_MORE_MACS) return;
  m->mac[m->n] = mac;
  m->packets[m->n++] = 1;
}

static void add_link_mac(FrameEvidence *ev, int iface, double mac) {
  double *list = ev->linkMacs + (size_t)iface * MAX_LINK_MACS;
  int n = ev->linkCount[iface];
  if (n >= MAX_LINK_MACS) return;
  for (int j = 0; j < n; j++)
    if (list[j] == mac) return;
  list[n] = mac;
  ev->linkCount[iface] = n + 1;
}

static int reserve_interface(FrameEvidence *ev, int iface) {
  if (iface < 0 || iface >= MAX_INTERFACES) return 0;
  if (iface < ev->interfaceCap) return 1;
  int cap = ev->interfaceCap == 0 ? 16 : ev->interfaceCap;
  while (cap <= iface) cap *= 2;
  double *macs = realloc(ev->linkMacs, (size_t)cap * MAX_LINK_MACS * sizeof(double));
  if (macs == NULL) return 0;
  ev->linkMacs = macs;
  uint8_t *count = realloc(ev->linkCount, cap);
  if (count == NULL) return 0;
  ev->linkCount = count;
  uint8_t *unicast = realloc(ev->unicast, cap);
  if (unicast == NULL) return 0;
  ev->unicast = unicast;
  memset(ev->linkCount + ev->interfaceCap, 0, cap - ev->interfaceCap);
  memset(ev->unicast + ev->interfaceCap, 0, cap - ev->interfaceCap);
  ev->interfaceCap = cap;
  return 1;
}

/* LinkMacs.note: the Ethernet header at `eth`; the destination counts when unicast (group bit clear). */
static void note_link(FrameEvidence *ev, int iface, const uint8_t *eth) {
  if (!reserve_interface(ev, iface)) return;
  add_link_mac(ev, iface, mac_at(eth + 6));
  if ((eth[0] & 1) == 0) {
    add_link_mac(ev, iface, mac_at(eth));
    ev->unicast[iface] = 1;
  }
}

/* DuplicateHandshakes.see */
static void see_handshake(FrameEvidence *ev, uint32_t seq, int64_t ipId, int clientPort, int synAck, int iface, double time) {
  double gap = fabs(time - ev->windowStart);
  if (gap > SAME_PACKET_SECONDS) {
    ev->window += gap > 2 * SAME_PACKET_SECONDS ? 2 : 1;
    ev->windowStart = time;
  }
  double key = ((double)seq * 65536 + (double)(ipId & 0xffff)) * 16 + (clientPort & 15);
  int32_t where = iface * 2 + (synAck ? 1 : 0);
  uint32_t i = ((seq ^ ((uint32_t)ipId << 16) ^ (uint32_t)clientPort) * 0x9e3779b1u) & (DUP_SLOTS - 1);
  for (int probe = 0; probe < DUP_PROBES; probe++, i = (i + 1) & (DUP_SLOTS - 1)) {
    if (ev->dupWindows[i] < ev->window - 1) {
      ev->dupKeys[i] = key;
      ev->dupWheres[i] = where;
      ev->dupWindows[i] = ev->window;
      return;
    }
    if (ev->dupKeys[i] == key) {
      if (ev->dupWheres[i] == where) ev->duplicates++;
      else {
        ev->dupWheres[i] = where;
        ev->dupWindows[i] = ev->window;
      }
      return;
    }
  }
}

/* A SYN or SYN-ACK; returns 1 when it has an IPv6 source MAC (IPv6 sightings stay in JavaScript). */
static int see_handshake_packet(FrameEvidence *ev, const Pkt *p, const uint8_t *buf, int iface, double time) {
  int synAck = (p->tcpFlags & TCP_ACK) != 0;
  if (synAck) ev->synAcks++;
  else ev->syns++;
  if (p->tcpOptionsCut) ev->optionsCut++;
  see_handshake(ev, p->seq, p->ipId, synAck ? p->dstPort : p->srcPort, synAck, iface, time);
  /* A frame out of VXLAN went over the wire in its tunnel's Ethernet header: those are the interface's MACs. */
  int linkEth = p->vxlanVni >= 0 ? p->vxlanOuterEthOffset : p->ethOffset;
  if (linkEth >= 0) note_link(ev, iface, buf + linkEth);
  /* Linux cooked headers carry the sender's MAC where Ethernet would. */
  int macOffset = p->ethOffset >= 0 ? p->ethOffset + 6 : p->sllMacOffset;
  if (macOffset < 0) return 0;
  if (p->ipVersion != 4) return 1;
  note_mac(ev, (double)p->src[3] * 65536 + iface, mac_at(buf + macOffset));
  return 0;
}

static void see_arp(FrameEvidence *ev, const Pkt *p, const uint8_t *buf, int iface) {
  if (p->ethOffset >= 0) note_link(ev, iface, buf + p->ethOffset);
  if (p->arpSenderMacOffset >= 0 && p->arpSenderIp != 0) note_mac(ev, (double)p->arpSenderIp * 65536 + iface, mac_at(buf + p->arpSenderMacOffset));
}

int frame_evidence_see(FrameEvidence *ev, const Pkt *p, const uint8_t *buf, int linkType, int iface, double time) {
  int syn = p->transport == T_TCP && (p->tcpFlags & TCP_SYN) != 0;
  int macV6 = syn && see_handshake_packet(ev, p, buf, iface, time);
  if (p->transport == T_ARP) see_arp(ev, p, buf, iface);
  /* What DecodeStage hands FlowTracker.add: TCP, and ICMP errors quoting TCP. */
  int tracked = p->transport == T_TCP || (p->transport == T_ICMP && p->icmpQuotesTcp);
  /* As DecodeStage: a frame the host sent counts only with the interface index of cooked v2. */
  int sentByHost = linkType == LINKTYPE_LINUX_SLL2 && p->sllPacketType == SLL_OUTGOING;
  int plain = tracked && p->problem == 0 && !sentByHost && !macV6 && !(syn && p->vxlanVni >= 0);
  if (plain && p->transport == T_TCP) {
    ev->tcp++;
    if (p->tcpFlags & TCP_RST) ev->rsts++;
    else if (!syn) ev->neither++;
  }
  return !plain;
}
