/*
 * synscope native tracker prototype: classic pcap -> decode -> FlowTracker.
 *
 *   track [--flows|--count|--decode-only|--read-only] [--max-live N] [--zeek-timers] [--batch N] [--mmap] file.pcap
 *
 * --flows (default) prints one line per flow as it leaves the tracker (same format as
 * proto/js-flows.js); --count prints only totals; --decode-only and --read-only stop
 * after decoding / after reading the records (to split the time). --batch N (1..64) holds
 * N decoded packets back to prefetch their hash buckets and flow records (same results).
 * --mmap maps the file instead of read()ing it in 8 MiB chunks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "tracker.h"

enum { M_FLOWS, M_COUNT, M_DECODE, M_READ };

typedef struct {
  int mode;
  FILE *out;
  double flows, histLen, packets, syns, synAcks;
} Sink;

static void fmt_addr(char *buf, size_t n, int version, const uint32_t *u, int e) {
  if (version == 4) {
    uint32_t a = u[e + E_A3];
    snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
  } else {
    snprintf(buf, n, "%08x:%08x:%08x:%08x", u[e + E_A0], u[e + E_A1], u[e + E_A2], u[e + E_A3]);
  }
}

static void on_flow(Tracker *t, int slot, void *ctx) {
  Sink *k = ctx;
  double *w = tracker_wide(t);
  int32_t *r = tracker_int(t);
  uint32_t *u = tracker_uint(t);
  int s = slot * WORDS, sw = slot * WIDE_WORDS;
  int origSide = r[s + S_ORIG_SIDE];
  int client = endpoint_base(slot, origSide);
  int server = endpoint_base(slot, 1 - origSide);
  double origPk = w[sw + W_PACKETS_A + origSide], respPk = w[sw + W_PACKETS_A + 1 - origSide];
  k->flows++;
  k->packets += origPk + respPk;
  k->syns += r[client + E_SYNS];
  k->synAcks += r[server + E_SYN_ACKS];
  if (k->mode == M_COUNT) {
    k->histLen += tracker_history_length(t, slot);
    return;
  }
  char hist[4096], cip[48], sip[48];
  int hl = tracker_history(t, slot, hist, sizeof hist);
  k->histLen += hl;
  int version = r[s + S_IP_VERSION] == 6 ? 6 : 4;
  fmt_addr(cip, sizeof cip, version, u, client);
  fmt_addr(sip, sizeof sip, version, u, server);
  int hasSyn = r[s + S_SYN_FROM] == origSide + 1;
  fprintf(k->out, "%.0f %d %s %d %s %d %.0f %.0f %d %d %s %s %d/%d %d/%d %.6f %.6f %d %d %d %.0f\n", w[sw + W_SEQ_NO],
          version, cip, r[client + E_PORT], sip, r[server + E_PORT], origPk, respPk, r[client + E_SYNS],
          r[server + E_SYN_ACKS], hl ? hist : "-", conn_state(t, slot, hist), r[client + E_STATE],
          r[client + E_PREV_STATE], r[server + E_STATE], r[server + E_PREV_STATE], w[sw + W_FIRST_SEEN],
          w[sw + W_LAST_SEEN], hasSyn ? r[s + S_SYN_MSS] : -1, hasSyn ? r[s + S_SYN_WSCALE] : -1,
          hasSyn ? (r[s + S_SYN_SACK] == 1) : 0, hasSyn ? w[sw + W_SYN_TSVAL] : -1.0);
}

/* ---------------------------------------------------------------- classic pcap reader */

#ifndef BUF_BYTES
/* 512 KiB: L2-sized, so records are still cached when parsed after the kernel copy (8 MiB was 2x slower to read); must hold 16 + 262144 bytes */
#define BUF_BYTES (512u << 10)
#endif

typedef struct {
  int fd;
  uint8_t *buf;
  size_t pos, end;
  int eof;
} Reader;

/** Makes at least n bytes available at r->pos; false at end of file. */
static int ensure(Reader *r, size_t n) {
  if (r->end - r->pos >= n) return 1;
  if (r->eof) return 0;
  memmove(r->buf, r->buf + r->pos, r->end - r->pos);
  r->end -= r->pos;
  r->pos = 0;
  while (r->end < n && !r->eof) {
    ssize_t got = read(r->fd, r->buf + r->end, BUF_BYTES - r->end);
    if (got < 0) {
      if (errno == EINTR) continue;
      perror("read");
      exit(2);
    }
    if (got == 0) r->eof = 1;
    r->end += (size_t)got;
  }
  return r->end - r->pos >= n;
}

static inline uint32_t rd32(const uint8_t *b, int little) {
  return little ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
                : (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
}
static inline uint32_t rd16(const uint8_t *b, int little) {
  return little ? (uint32_t)b[0] | (uint32_t)b[1] << 8 : (uint32_t)b[1] | (uint32_t)b[0] << 8;
}

#define MAX_BATCH 64

typedef struct {
  Pkt pkt;
  int end;
  double time;
} Item;

/** What synscope's decode stage hands the tracker: TCP, and ICMP errors quoting TCP. */
static inline void hand_on(Tracker *tr, Item *it, const uint8_t *buf) {
  const Pkt *p = &it->pkt;
  if (p->transport == T_TCP || (p->transport == T_ICMP && p->icmpQuotesTcp)) tracker_add(tr, p, buf, it->end, it->time, 0);
}

static void flush_batch(Tracker *tr, Item *batch, int *nb, const uint8_t *buf) {
  int n = *nb;
  for (int k = 0; k < n; k++) tracker_prefetch_record(tr, &batch[k].pkt);
  for (int k = 0; k < n; k++) hand_on(tr, &batch[k], buf);
  *nb = 0;
}

int main(int argc, char **argv) {
  int mode = M_FLOWS;
  int batchSize = 0;
  int useMmap = 0;
  const char *path = NULL;
  TrackerOptions opt = {.zeekTimers = 0, .closeDelay = 5, .attemptIdleTimeout = 150, .idleTimeout = 300, .maxLiveFlows = 50000};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--count")) mode = M_COUNT;
    else if (!strcmp(argv[i], "--flows")) mode = M_FLOWS;
    else if (!strcmp(argv[i], "--decode-only")) mode = M_DECODE;
    else if (!strcmp(argv[i], "--read-only")) mode = M_READ;
    else if (!strcmp(argv[i], "--zeek-timers")) opt.zeekTimers = 1;
    else if (!strcmp(argv[i], "--mmap")) useMmap = 1;
    else if (!strcmp(argv[i], "--max-live") && i + 1 < argc) opt.maxLiveFlows = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
      batchSize = atoi(argv[++i]);
      if (batchSize < 0 || batchSize > MAX_BATCH) batchSize = MAX_BATCH;
    }
    else path = argv[i];
  }
  if (path == NULL) {
    fprintf(stderr, "usage: track [--flows|--count|--decode-only|--read-only] [--max-live N] file.pcap\n");
    return 2;
  }
  Reader rd = {.fd = open(path, O_RDONLY)};
  if (rd.fd < 0) {
    perror(path);
    return 2;
  }
  posix_fadvise(rd.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  size_t mapped = 0;
  if (useMmap) {
    struct stat st;
    if (fstat(rd.fd, &st) == 0 && st.st_size > 0) {
      void *m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, rd.fd, 0);
      if (m != MAP_FAILED) {
        madvise(m, st.st_size, MADV_SEQUENTIAL);
        mapped = st.st_size;
        rd.buf = m;
        rd.end = mapped;
        rd.eof = 1; /* ensure() never refills (nor moves) a mapped file */
      }
    }
  }
  if (!mapped) rd.buf = malloc(BUF_BYTES);
  if (!ensure(&rd, 24)) {
    fprintf(stderr, "%s: short pcap header\n", path);
    return 2;
  }
  const uint8_t *h = rd.buf;
  uint32_t magic = rd32(h, 1);
  int little;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) little = 1;
  else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) little = 0;
  else {
    fprintf(stderr, "%s: not a classic pcap file (magic 0x%x)\n", path, magic);
    return 2;
  }
  int nano = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
  uint32_t major = rd16(h + 4, little), minor = rd16(h + 6, little);
  if (!((major == 2 && minor <= 4) || (major == 543 && minor == 0))) {
    fprintf(stderr, "%s: unsupported pcap version %u.%u\n", path, major, minor);
    return 2;
  }
  int lengthOrder = major == 543 || minor < 3 ? 1 : minor == 3 ? 2 : 0; /* normal, swapped, maybeSwapped */
  uint32_t linkType = rd32(h + 20, little) & 0xffff;
  if (linkType != 1) {
    fprintf(stderr, "%s: link type %u not supported by this prototype (Ethernet only)\n", path, linkType);
    return 2;
  }
  uint32_t maxCaplen = 262144;
  uint32_t snaplen = rd32(h + 16, little);
  if (snaplen == 0 || snaplen > maxCaplen) snaplen = maxCaplen;
  rd.pos += 24;

  Sink sink = {.mode = mode, .out = stdout};
  static char outbuf[1 << 20];
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  Tracker *tr = (mode == M_FLOWS || mode == M_COUNT) ? tracker_new(&opt, on_flow, &sink) : NULL;
  /* With --batch N, up to N decoded packets are held back so that their hash buckets and
   * then their flow records can be prefetched before the tracker sees them, in order. */
  static Item batch[MAX_BATCH];
  for (int k = 0; k < MAX_BATCH; k++) batch[k].pkt.icmpType = -1;
  int nb = 0;
  double records = 0, tcp = 0, bytes = 0;

  for (;;) {
    int whole = rd.end - rd.pos >= 16;
    uint32_t caplen = 0, origLen = 0;
    if (whole) {
      const uint8_t *rh = rd.buf + rd.pos;
      caplen = rd32(rh + 8, little);
      origLen = rd32(rh + 12, little);
      if (lengthOrder != 0 && (lengthOrder == 1 || caplen > origLen)) {
        uint32_t x = caplen;
        caplen = origLen;
        origLen = x;
      }
      whole = caplen <= maxCaplen && rd.end - rd.pos >= 16 + (size_t)caplen;
    }
    if (!whole) {
      /* the buffer is about to be refilled (moved): hand the held packets on first */
      flush_batch(tr, batch, &nb, rd.buf);
      if (!ensure(&rd, 16)) break;
      const uint8_t *rh = rd.buf + rd.pos;
      caplen = rd32(rh + 8, little);
      origLen = rd32(rh + 12, little);
      if (lengthOrder != 0 && (lengthOrder == 1 || caplen > origLen)) {
        uint32_t x = caplen;
        caplen = origLen;
        origLen = x;
      }
      if (caplen > maxCaplen) {
        fprintf(stderr, "%s: record caplen %u exceeds the maximum\n", path, caplen);
        return 2;
      }
      if (!ensure(&rd, 16 + (size_t)caplen)) break; /* file ends mid-record */
    }
    const uint8_t *rh = rd.buf + rd.pos;
    uint32_t sec = rd32(rh, little), frac = rd32(rh + 4, little);
    double tsSec = sec, tsNsec;
    if (nano) {
      if (frac >= 1000000000u) {
        tsSec += frac / 1000000000u;
        frac %= 1000000000u;
      }
      tsNsec = frac;
    } else {
      if (frac >= 1000000u) {
        tsSec += frac / 1000000u;
        frac %= 1000000u;
      }
      tsNsec = frac * 1000.0;
    }
    int start = (int)rd.pos + 16;
    int len = (int)(caplen > snaplen ? snaplen : caplen);
    rd.pos += 16 + (size_t)caplen;
    records++;
    bytes += len;
    if (mode == M_READ) continue;
    Item *it = &batch[nb];
    it->time = tsSec + tsNsec * 1e-9;
    it->end = start + len;
    decode_ethernet_frame(rd.buf, start, start + len, &it->pkt);
    if (it->pkt.transport == T_TCP) tcp++;
    if (tr == NULL) continue;
    if (batchSize == 0) {
      hand_on(tr, it, rd.buf);
      continue;
    }
    tracker_prefetch_bucket(tr, &it->pkt);
    if (++nb == batchSize) flush_batch(tr, batch, &nb, rd.buf);
  }
  flush_batch(tr, batch, &nb, rd.buf);
  if (tr) tracker_finish(tr);
  fflush(stdout);
  double ee = 0, sra = 0, aa = 0;
  if (tr) tracker_pressure(tr, &ee, &sra, &aa);
  if (mode != M_FLOWS)
    printf("records %.0f bytes %.0f tcp %.0f flows %.0f packets %.0f syns %.0f synAcks %.0f histLen %.0f endedEarly %.0f synRetransmissionsAfter %.0f answersAfter %.0f\n",
           records, bytes, tcp, sink.flows, sink.packets, sink.syns, sink.synAcks, sink.histLen, ee, sra, aa);
  else
    fprintf(stderr, "records %.0f tcp %.0f flows %.0f packets %.0f histLen %.0f endedEarly %.0f synRetransmissionsAfter %.0f answersAfter %.0f\n",
            records, tcp, sink.flows, sink.packets, sink.histLen, ee, sra, aa);
  if (tr) tracker_free(tr);
  close(rd.fd);
  if (mapped) munmap(rd.buf, mapped);
  else free(rd.buf);
  return 0;
}
