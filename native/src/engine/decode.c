/* Port of src/decode/{dispatch,ethernet,vlan,mpls,pppoe,ipv4,ipv6,tcp,udp,vxlan,icmp,tcp-options}.ts. */
#include "decode.h"
#include <string.h>

enum { L_DONE = 0, L_ETHERNET = 1, L_VLAN = 2, L_IPV4 = 7, L_IPV6 = 8, L_TCP = 9, L_UDP = 10,
       L_ICMPV4 = 11, L_ICMPV6 = 12, L_ARP = 13, L_VXLAN = 14, L_MPLS = 15, L_PPPOE = 16,
       L_SLL = 17, L_SLL2 = 18, L_NULL = 19, L_LOOP = 20, L_RAW = 21 };

/* Problem codes only matter as "not 0" here; the names are those of problems.ts. */
enum { P_TRUNCATED = 1, P_INVALID = 2, P_FRAGMENT = 3, P_UNSUPPORTED = 4 };

#define MAX_LAYERS 32

static inline uint32_t be16(const uint8_t *b) { return ((uint32_t)b[0] << 8) | b[1]; }
static inline uint32_t be32(const uint8_t *b) {
  return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static inline int fail(Pkt *p, int problem) {
  p->problem = problem;
  return L_DONE;
}

static int next_for_ether_type(Pkt *p, uint32_t type) {
  switch (type) {
    case 0x0800: return L_IPV4;
    case 0x86dd: return L_IPV6;
    case 0x0806: return L_ARP;
    case 0x8100: case 0x88a8: case 0x9100: return L_VLAN;
    case 0x8847: case 0x8848: return L_MPLS;
    case 0x8864: return L_PPPOE;
    case 0x88e5: case 0x88e7: p->problem = P_UNSUPPORTED; return L_DONE;
    default: return L_DONE;
  }
}

static int next_for_ip_proto(Pkt *p, int proto) {
  p->ipProto = proto;
  switch (proto) {
    case 6: return L_TCP;
    case 17: return L_UDP;
    case 1: return L_ICMPV4;
    case 58: return L_ICMPV6;
    default: p->transport = T_OTHER_IP; return L_DONE;
  }
}

static int d_ethernet(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 14) return fail(p, P_TRUNCATED);
  p->ethOffset = off;
  p->cursor = off + 14;
  return next_for_ether_type(p, be16(b + off + 12));
}

static int d_vlan(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 4) return fail(p, P_TRUNCATED);
  p->vlanCount++;
  p->cursor = off + 4;
  return next_for_ether_type(p, be16(b + off + 2));
}

static int d_mpls(const uint8_t *b, int off, int end, Pkt *p) {
  int o = off;
  for (;;) {
    if (end - o < 4) return fail(p, P_TRUNCATED);
    int bottom = b[o + 2] & 1;
    o += 4;
    if (bottom) break;
  }
  p->cursor = o;
  if (o >= end) return fail(p, P_TRUNCATED);
  int v = b[o] >> 4;
  if (v == 4) return L_IPV4;
  if (v == 6) return L_IPV6;
  return fail(p, P_UNSUPPORTED);
}

static int d_pppoe(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 6) return fail(p, P_TRUNCATED);
  if (b[off] != 0x11 || b[off + 1] != 0) return fail(p, P_INVALID);
  int length = (int)be16(b + off + 4);
  int payloadEnd = off + 6 + length;
  if (payloadEnd < end) p->end = payloadEnd;
  int o = off + 6;
  if (o >= p->end) return fail(p, length == 0 ? P_INVALID : P_TRUNCATED);
  int fieldLength = (b[o] & 1) == 1 ? 1 : 2;
  if (length < fieldLength) return fail(p, P_INVALID);
  if (p->end - o < fieldLength) return fail(p, P_TRUNCATED);
  uint32_t proto = fieldLength == 1 ? b[o] : be16(b + o);
  p->cursor = o + fieldLength;
  if (proto == 0x21) return L_IPV4;
  if (proto == 0x57) return L_IPV6;
  return L_DONE;
}

static int d_ipv4(const uint8_t *b, int off, int end, Pkt *p) {
  int captured = end - off;
  if (captured < 1) return fail(p, P_TRUNCATED);
  if ((b[off] >> 4) != 4) return fail(p, P_INVALID);
  if (captured < 20) return fail(p, P_TRUNCATED);
  uint32_t versionLength = be32(b + off);
  uint32_t idFragment = be32(b + off + 4);
  uint32_t ttlProto = be32(b + off + 8);
  p->ipVersion = 4;
  p->ipId = idFragment >> 16;
  p->ttl = ttlProto >> 24;
  p->ipProto = (ttlProto >> 16) & 0xff;
  p->src[0] = 0; p->src[1] = 0; p->src[2] = 0xffff; p->src[3] = be32(b + off + 12);
  p->dst[0] = 0; p->dst[1] = 0; p->dst[2] = 0xffff; p->dst[3] = be32(b + off + 16);
  int headerLength = ((versionLength >> 24) & 0x0f) * 4;
  if (headerLength < 20) return fail(p, P_INVALID);
  int totalLength = versionLength & 0xffff;
  if (totalLength == 0) totalLength = captured;
  if (totalLength < headerLength) return fail(p, P_INVALID);
  if (captured < headerLength) return fail(p, P_TRUNCATED);
  if (totalLength < captured) p->end = off + totalLength;
  p->ipPayloadLength = totalLength - headerLength;
  if ((idFragment & 0x1fff) != 0) {
    p->fragment = 1;
    return fail(p, P_FRAGMENT);
  }
  p->cursor = off + headerLength;
  return next_for_ip_proto(p, p->ipProto);
}

static inline int is_ipv6_extension(int next) {
  return next == 0 || next == 43 || next == 44 || next == 60 || next == 51 || next == 135;
}

static inline int ipv6_extension_length(const uint8_t *b, int o, int next) {
  if (next == 44) return 8;
  if (next == 51) return (b[o + 1] + 2) * 4;
  return (b[o + 1] + 1) * 8;
}

static int64_t find_jumbo(const uint8_t *b, int from, int to) {
  int i = from;
  while (i < to) {
    int type = b[i];
    if (type == 0) { i++; continue; }
    if (i + 2 > to) return -1;
    int len = b[i + 1];
    if (type == 0xc2 && len == 4 && i + 6 <= to) return be32(b + i + 2);
    i += 2 + len;
  }
  return -1;
}

static int d_ipv6(const uint8_t *b, int off, int end, Pkt *p) {
  int captured = end - off;
  if (captured < 1) return fail(p, P_TRUNCATED);
  if ((b[off] >> 4) != 6) return fail(p, P_INVALID);
  if (captured < 40) return fail(p, P_TRUNCATED);
  p->ipVersion = 6;
  p->ttl = b[off + 7];
  for (int i = 0; i < 4; i++) {
    p->src[i] = be32(b + off + 8 + 4 * i);
    p->dst[i] = be32(b + off + 24 + 4 * i);
  }
  int next = b[off + 6];
  p->ipProto = next;
  int64_t payloadLength = be16(b + off + 4);
  int start = off + 40;
  int64_t wireEnd = payloadLength == 0 ? end : start + payloadLength;
  if (wireEnd < end) p->end = end = (int)wireEnd;
  int o = start;
  while (is_ipv6_extension(next)) {
    if (wireEnd - o < 2) return fail(p, P_INVALID);
    if (end - o < 2) return fail(p, P_TRUNCATED);
    int length = ipv6_extension_length(b, o, next);
    if (wireEnd - o < length) return fail(p, P_INVALID);
    if (end - o < length) return fail(p, P_TRUNCATED);
    if (next == 0 && payloadLength == 0 && o == start) {
      int64_t jumbo = find_jumbo(b, o + 2, o + length);
      if (jumbo != -1) {
        if (jumbo <= 0xffff) return fail(p, P_INVALID);
        wireEnd = start + jumbo;
        if (wireEnd < end) p->end = end = (int)wireEnd;
      }
    } else if (next == 44) {
      p->ipId = be32(b + o + 4);
      if ((be16(b + o + 2) & 0xfff8) != 0) {
        p->ipProto = b[o];
        p->fragment = 1;
        return fail(p, P_FRAGMENT);
      }
    }
    next = b[o];
    o += length;
  }
  if (wireEnd < o) return fail(p, P_INVALID);
  p->ipPayloadLength = wireEnd - o;
  p->cursor = o;
  return next_for_ip_proto(p, next);
}

static int d_tcp(const uint8_t *b, int off, int end, Pkt *p) {
  int captured = end - off;
  if (captured < 14) return fail(p, P_TRUNCATED);
  p->transport = T_TCP;
  uint32_t ports = be32(b + off);
  uint32_t ofw = captured >= 16 ? be32(b + off + 12) : be16(b + off + 12) << 16;
  p->srcPort = ports >> 16;
  p->dstPort = ports & 0xffff;
  p->seq = be32(b + off + 4);
  p->ack = be32(b + off + 8);
  p->tcpFlags = (ofw >> 16) & 0xff;
  p->window = captured >= 16 ? (int)(ofw & 0xffff) : -1;
  int headerLength = (ofw >> 28) * 4;
  if (headerLength < 20 || headerLength > p->ipPayloadLength) return fail(p, P_INVALID);
  if (captured < headerLength) {
    p->tcpOptionsCut = headerLength > 20;
    p->payloadLength = p->ipPayloadLength - headerLength;
    return fail(p, P_TRUNCATED);
  }
  p->tcpOptionsOffset = off + 20;
  p->tcpOptionsLength = headerLength - 20;
  p->payloadLength = p->ipPayloadLength - headerLength;
  p->cursor = off + headerLength;
  return L_DONE;
}

static int d_udp(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 8) return fail(p, P_TRUNCATED);
  p->transport = T_UDP;
  p->srcPort = be16(b + off);
  p->dstPort = be16(b + off + 2);
  uint32_t length = be16(b + off + 4);
  if ((length != 0 && length < 8) || p->ipPayloadLength < 8) return fail(p, P_INVALID);
  p->payloadLength = p->ipPayloadLength - 8;
  p->cursor = off + 8;
  return p->dstPort == 4789 ? L_VXLAN : L_DONE;
}

static int d_vxlan(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 8) return fail(p, P_TRUNCATED);
  if ((b[off] & 0x08) == 0) return L_DONE;
  p->vxlanVni = (b[off + 4] << 16) | (b[off + 5] << 8) | b[off + 6];
  p->vxlanOuterEthOffset = p->ethOffset;
  p->transport = T_NONE;
  p->srcPort = 0;
  p->dstPort = 0;
  p->payloadLength = 0;
  p->ipVersion = 0;
  p->ipId = -1;
  p->ttl = 0;
  p->ipProto = 0;
  p->ipPayloadLength = 0;
  p->cursor = off + 8;
  return L_ETHERNET;
}

/* arp.ts: Ethernet/IPv4 ARP only (it never reaches the tracker; its sender's MAC is evidence). */
static int d_arp(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 8) return fail(p, P_TRUNCATED);
  if (be16(b + off) != 1 || be16(b + off + 2) != 0x0800 || b[off + 4] != 6 || b[off + 5] != 4) return L_DONE;
  if (end - off < 28) return fail(p, P_TRUNCATED);
  p->transport = T_ARP;
  p->arpSenderMacOffset = off + 8;
  p->arpSenderIp = be32(b + off + 14);
  p->cursor = off + 28;
  return L_DONE;
}

static int decode_quote(const uint8_t *b, int q, int end, Pkt *p) {
  if (end - q < 1) return fail(p, P_TRUNCATED);
  int version = b[q] >> 4;
  int t, proto;
  if (version == 4) {
    if (end - q < 20) return fail(p, P_TRUNCATED);
    int headerLength = (b[q] & 0x0f) * 4;
    if (headerLength < 20) return fail(p, P_INVALID);
    p->quotedIpVersion = 4;
    p->quotedSrc[0] = 0; p->quotedSrc[1] = 0; p->quotedSrc[2] = 0xffff; p->quotedSrc[3] = be32(b + q + 12);
    p->quotedDst[0] = 0; p->quotedDst[1] = 0; p->quotedDst[2] = 0xffff; p->quotedDst[3] = be32(b + q + 16);
    proto = b[q + 9];
    if ((be16(b + q + 6) & 0x1fff) != 0) return L_DONE;
    t = q + headerLength;
  } else if (version == 6) {
    if (end - q < 40) return fail(p, P_TRUNCATED);
    p->quotedIpVersion = 6;
    for (int i = 0; i < 4; i++) {
      p->quotedSrc[i] = be32(b + q + 8 + 4 * i);
      p->quotedDst[i] = be32(b + q + 24 + 4 * i);
    }
    proto = b[q + 6];
    t = q + 40;
    while (is_ipv6_extension(proto)) {
      if (end - t < 8) return fail(p, P_TRUNCATED);
      int length = ipv6_extension_length(b, t, proto);
      if (proto == 44 && (be16(b + t + 2) & 0xfff8) != 0) return L_DONE;
      proto = b[t];
      t += length;
    }
  } else {
    return fail(p, P_INVALID);
  }
  if (proto != 6 && proto != 17) return L_DONE;
  if (end - t < 4) return fail(p, P_TRUNCATED);
  p->quotedSrcPort = be16(b + t);
  p->quotedDstPort = be16(b + t + 2);
  int seqCut = end - t < 8;
  if (proto == 6) {
    if (!seqCut) p->quotedSeq = be32(b + t + 4);
    p->quotedSeqCut = seqCut;
    p->icmpQuotesTcp = 1;
  }
  return seqCut ? fail(p, P_TRUNCATED) : L_DONE;
}

static int d_icmp(const uint8_t *b, int off, int end, Pkt *p, int v6) {
  int type = end - off >= 1 ? b[off] : -1;
  int isError = v6 ? (type >= 1 && type <= 4) : (type == 3 || type == 4 || type == 5 || type == 11 || type == 12);
  if (end - off < 4) return fail(p, P_TRUNCATED);
  p->transport = T_ICMP;
  p->icmpType = b[off];
  p->icmpCode = b[off + 1];
  if (!isError) return L_DONE;
  if (end - off < 8) return fail(p, P_TRUNCATED);
  p->cursor = off + 8;
  return decode_quote(b, off + 8, end, p);
}


/* link-types.ts, sll.ts, sll2.ts, null-loopback.ts, raw-ip.ts */
static int next_for_family(Pkt *p, uint32_t family) {
  switch (family) {
    case 2: return L_IPV4;
    case 10: case 24: case 28: case 30: return L_IPV6;
    default: return fail(p, P_UNSUPPORTED);
  }
}

static int d_null(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 4) return fail(p, P_TRUNCATED);
  uint32_t family = (uint32_t)b[off] | ((uint32_t)b[off + 1] << 8) | ((uint32_t)b[off + 2] << 16) | ((uint32_t)b[off + 3] << 24);
  if ((family & 0xffff0000u) != 0) family = be32(b + off);
  p->cursor = off + 4;
  return next_for_family(p, family);
}

static int d_loop(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 4) return fail(p, P_TRUNCATED);
  p->cursor = off + 4;
  return next_for_family(p, be32(b + off));
}

static int d_raw(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 1) return fail(p, P_TRUNCATED);
  int version = b[off] >> 4;
  if (version == 4) return L_IPV4;
  if (version == 6) return L_IPV6;
  return fail(p, P_INVALID);
}

static int d_sll(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 16) return fail(p, P_TRUNCATED);
  p->sllPacketType = (int)be16(b + off);
  if (be16(b + off + 2) == 1 && be16(b + off + 4) == 6) p->sllMacOffset = off + 6;
  p->cursor = off + 16;
  return next_for_ether_type(p, be16(b + off + 14));
}

static int d_sll2(const uint8_t *b, int off, int end, Pkt *p) {
  if (end - off < 20) return fail(p, P_TRUNCATED);
  p->sllPacketType = b[off + 10];
  if (be16(b + off + 8) == 1 && b[off + 11] == 6) p->sllMacOffset = off + 12;
  p->cursor = off + 20;
  return next_for_ether_type(p, be16(b + off));
}

static int first_layer(int linkType) {
  switch (linkType) {
    case 1: return L_ETHERNET;
    case 113: return L_SLL;
    case LINKTYPE_LINUX_SLL2: return L_SLL2;
    case 0: return L_NULL;
    case 108: return L_LOOP;
    case 101: return L_RAW;
    case 228: return L_IPV4;
    case 229: return L_IPV6;
    default: return L_DONE;
  }
}


void decode_frame(int linkType, const uint8_t *buf, int start, int end, Pkt *p) {
  /* reset(): every field the tracker reads */
  p->cursor = start;
  p->end = end;
  p->problem = 0;
  p->lastLayer = 0;
  p->vlanCount = 0;
  p->vxlanVni = -1;
  p->ethOffset = -1;
  p->vxlanOuterEthOffset = -1;
  p->sllMacOffset = -1;
  p->sllPacketType = -1;
  p->arpSenderMacOffset = -1;
  p->arpSenderIp = 0;
  p->ipVersion = 0;
  p->ipId = -1;
  p->ttl = 0;
  p->ipProto = 0;
  p->ipPayloadLength = 0;
  p->fragment = 0;
  p->transport = T_NONE;
  p->srcPort = 0;
  p->dstPort = 0;
  p->seq = 0;
  p->ack = 0;
  p->tcpFlags = 0;
  p->window = 0;
  p->tcpOptionsOffset = 0;
  p->tcpOptionsLength = 0;
  p->tcpOptionsCut = 0;
  p->payloadLength = 0;
  if (p->icmpType != -1) {
    p->icmpType = -1;
    p->icmpCode = -1;
    p->icmpQuotesTcp = 0;
    p->quotedIpVersion = 0;
    p->quotedSrcPort = 0;
    p->quotedDstPort = 0;
    p->quotedSeq = 0;
    p->quotedSeqCut = 0;
  }
  int layer = first_layer(linkType);
  if (layer == L_DONE) {
    p->problem = P_UNSUPPORTED;
    return;
  }
  for (int depth = 0; layer != L_DONE; depth++) {
    if (depth == MAX_LAYERS) {
      p->problem = P_UNSUPPORTED;
      return;
    }
    p->lastLayer = layer;
    int off = p->cursor, e = p->end;
    switch (layer) {
      case L_ETHERNET: layer = d_ethernet(buf, off, e, p); break;
      case L_VLAN: layer = d_vlan(buf, off, e, p); break;
      case L_MPLS: layer = d_mpls(buf, off, e, p); break;
      case L_PPPOE: layer = d_pppoe(buf, off, e, p); break;
      case L_IPV4: layer = d_ipv4(buf, off, e, p); break;
      case L_IPV6: layer = d_ipv6(buf, off, e, p); break;
      case L_TCP: layer = d_tcp(buf, off, e, p); break;
      case L_UDP: layer = d_udp(buf, off, e, p); break;
      case L_VXLAN: layer = d_vxlan(buf, off, e, p); break;
      case L_ICMPV4: layer = d_icmp(buf, off, e, p, 0); break;
      case L_ICMPV6: layer = d_icmp(buf, off, e, p, 1); break;
      case L_ARP: layer = d_arp(buf, off, e, p); break;
      case L_SLL: layer = d_sll(buf, off, e, p); break;
      case L_SLL2: layer = d_sll2(buf, off, e, p); break;
      case L_NULL: layer = d_null(buf, off, e, p); break;
      case L_LOOP: layer = d_loop(buf, off, e, p); break;
      case L_RAW: layer = d_raw(buf, off, e, p); break;
      default: layer = L_DONE; break;
    }
  }
}

void parse_tcp_options(const uint8_t *buf, int offset, int length, int bufLen, TcpOpts *o) {
  o->mss = -1;
  o->windowScale = -1;
  o->sackPermitted = 0;
  o->tsVal = -1;
  o->tsEcr = -1;
  int end = offset + (length > 0 ? length : 0);
  if (end > bufLen) end = bufLen;
  int i = offset > 0 ? offset : 0;
  while (i < end) {
    int kind = buf[i];
    if (kind == 0) break;
    if (kind == 1) { i++; continue; }
    if (i + 1 >= end) break;
    int len = buf[i + 1];
    if (len < 2 || i + len > end) break;
    if (kind == 2 && len == 4) o->mss = (int)be16(buf + i + 2);
    else if (kind == 3 && len == 3) o->windowScale = buf[i + 2];
    else if (kind == 4 && len == 2) o->sackPermitted = 1;
    else if (kind == 8 && len == 10) {
      o->tsVal = be32(buf + i + 2);
      o->tsEcr = be32(buf + i + 6);
    }
    i += len;
  }
}
