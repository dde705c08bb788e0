/*
 * Port of src/decode/ (*.ts): Ethernet, 802.1Q/802.1ad/0x9100 tags,
 * MPLS, PPPoE session, IPv4, IPv6 with its extension chain, TCP, UDP (+ VXLAN to 4789,
 * whose inner frame overwrites the outer layers), ICMPv4/ICMPv6 errors quoting TCP, ARP.
 * Field semantics follow DecodedPacket (packet.ts); only the fields the tracker and the
 * frame evidence read are kept.
 */
#ifndef SYNSCOPE_DECODE_H
#define SYNSCOPE_DECODE_H
#include <stdint.h>

enum { T_NONE = 0, T_TCP = 1, T_UDP = 2, T_ICMP = 3, T_ARP = 4, T_OTHER_IP = 5 };

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_ACK = 0x10 };

/* LINKTYPE_LINUX_SLL2 (its header names the interface), and the SLL packet type of a frame the capturing host sent. */
enum { LINKTYPE_LINUX_SLL2 = 276, SLL_OUTGOING = 4 };

typedef struct {
  int cursor, end, problem, lastLayer;
  int vlanCount, vxlanVni;
  int ipVersion, fragment, ttl, ipProto;
  int64_t ipId;            /* IPv4 id, IPv6 fragment id (uint32) or -1 */
  int64_t ipPayloadLength; /* wire size */
  uint32_t src[4], dst[4];
  int transport, srcPort, dstPort, tcpFlags, window;
  uint32_t seq, ack;
  int tcpOptionsOffset, tcpOptionsLength, tcpOptionsCut;
  int64_t payloadLength;
  int icmpType, icmpCode, icmpQuotesTcp, quotedIpVersion, quotedSrcPort, quotedDstPort, quotedSeqCut;
  uint32_t quotedSrc[4], quotedDst[4], quotedSeq;
  /* Link-layer evidence (frame-evidence.c): offsets of the MACs in the frame, -1 when absent. */
  int ethOffset, vxlanOuterEthOffset, sllMacOffset, sllPacketType, arpSenderMacOffset;
  uint32_t arpSenderIp;
} Pkt;

/** Decodes the frame buf[start, end) of LINKTYPE linkType (Ethernet, SLL, SLL2, NULL, LOOP, RAW, IPV4, IPV6). */
void decode_frame(int linkType, const uint8_t *buf, int start, int end, Pkt *p);

typedef struct {
  int mss, windowScale, sackPermitted; /* -1 when absent; sack 0/1 */
  double tsVal, tsEcr;                 /* -1 when absent */
} TcpOpts;

/** parseTcpOptions for the fields the tracker keeps. */
void parse_tcp_options(const uint8_t *buf, int offset, int length, int bufLen, TcpOpts *o);

#endif
