/*
 * Classic pcap records read in C, for the engine's thread: PcapReader.next() (src/capture/
 * pcap-reader.ts) record for record, the same lengths, times, counts and errors, but into a
 * batch's own buffer with pread, so that reading and parsing leave the JavaScript thread.
 */
#define _GNU_SOURCE
#include "pcap-scan.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define RECORD_HEADER 16
/* Bytes asked of the file at a time: a batch that ends stops reading near its last record, so
 * what it carries to the next (copied once) is at most this. */
#define READ_CHUNK (128 * 1024)

void pcap_scan_init(PcapScan *s, const PcapFormat *f, int64_t position) {
  memset(s, 0, sizeof *s);
  s->f = *f;
  s->carryAt = position;
  s->truncatedAt = -1;
  s->bytesRead = position;
  s->firstAt = 1.0 / 0.0;
  s->lastAt = -1.0 / 0.0;
}

static uint32_t u32(const PcapScan *s, const uint8_t *p) {
  if (s->f.littleEndian) return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

/* More of the file after the `*have` bytes of b->buf (which start at file offset `at`); 0 at its end or on an error. */
static int fill(PcapScan *s, ScanBatch *b, int64_t at, int *have) {
  int room = b->bufCap - *have;
  if (room <= 0) return 0;
  if (room > READ_CHUNK) room = READ_CHUNK;
  for (;;) {
    ssize_t n = pread(s->f.fd, b->buf + *have, room, at + *have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s->error = SCAN_READ_FAILED;
      s->errorNumber = errno;
      s->ended = 1;
      return 0;
    }
    if (n == 0) return 0;
    *have += (int)n;
    return 1;
  }
}

int pcap_scan_next(PcapScan *s, ScanBatch *b) {
  if (s->ended) return 0;
  int have = s->carryLen;
  if (have > 0) memmove(b->buf, s->carry, have);
  const int64_t at = s->carryAt; /* file offset of b->buf[0] */
  int pos = 0, count = 0, eof = 0;
  while (count < b->capacity) {
    const uint8_t *h = b->buf + pos;
    uint32_t caplen = 0, origLen = 0;
    int need = RECORD_HEADER;
    if (have - pos >= RECORD_HEADER) {
      caplen = u32(s, h + 8);
      origLen = u32(s, h + 12);
      if (s->f.lengthOrder != 0 && (s->f.lengthOrder == 1 || caplen > origLen)) {
        uint32_t t = caplen;
        caplen = origLen;
        origLen = t;
      }
      if (caplen > s->f.maxCaplen) {
        s->error = SCAN_BAD_CAPLEN;
        s->errorOffset = at + pos;
        s->errorCaplen = caplen;
        s->ended = 1;
        break;
      }
      need = RECORD_HEADER + (int)caplen;
    }
    if (have - pos < need) {
      /* More of the file while the buffer has room; else the record starts the next batch, or the file ended inside it. */
      if (have < b->bufCap && !eof) {
        if (!fill(s, b, at, &have)) eof = 1;
        if (s->error) break;
        continue;
      }
      if (eof) s->ended = 1;
      break;
    }
    uint64_t sec = u32(s, h), frac = u32(s, h + 4);
    /* An out-of-range fraction (tcpdump prints "invalid us") carries into the seconds. */
    if (s->f.nanosecond) {
      sec += frac / 1000000000u;
      frac %= 1000000000u;
    } else {
      sec += frac / 1000000u;
      frac = frac % 1000000u * 1000u;
    }
    double time = (double)sec + (double)frac * 1e-9;
    b->offsets[count] = pos + RECORD_HEADER;
    uint32_t kept = caplen > s->f.snaplen ? s->f.snaplen : caplen;
    b->lengths[count] = (int32_t)kept;
    b->times[count] = time;
    if (time < s->firstAt) s->firstAt = time;
    if (time > s->lastAt) s->lastAt = time;
    s->packets++;
    if (kept < origLen) s->snapped++;
    count++;
    pos += need;
  }
  s->carry = b->buf + pos;
  s->carryLen = have - pos;
  s->carryAt = at + pos;
  s->bytesRead = at + pos;
  if (s->ended && s->error == SCAN_OK) {
    /* PcapReader's finish(): a record cut by the file's end is counted, and its bytes read. */
    if (s->carryLen > 0) s->truncatedAt = s->carryAt;
    s->bytesRead = at + have;
  }
  return count;
}
