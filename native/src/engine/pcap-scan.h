#ifndef SYNSCOPE_PCAP_SCAN_H
#define SYNSCOPE_PCAP_SCAN_H

#include <stdint.h>

/* What a classic pcap file's header said (PcapReader parses and checks it). */
typedef struct {
  int fd;
  int littleEndian, nanosecond;
  int lengthOrder; /* 0 normal, 1 swapped, 2 maybe swapped (libpcap's swapped_type_t) */
  uint32_t snaplen, maxCaplen;
} PcapFormat;

enum { SCAN_OK = 0, SCAN_BAD_CAPLEN = 1, SCAN_READ_FAILED = 2 };

/* A scan's progress through the file, carried from one batch to the next. */
typedef struct {
  PcapFormat f;
  int64_t carryAt;           /* file offset of the first byte not yet handed out as a record */
  const uint8_t *carry;      /* those bytes, read already: the start of the next record */
  int carryLen;
  int ended;                 /* end of file (or an error): no record after this batch */
  int error;                 /* SCAN_* */
  int64_t errorOffset;       /* the bad record's file offset */
  uint32_t errorCaplen;
  int errorNumber;           /* errno of a failed read */
  int64_t truncatedAt;       /* file offset of a record the file's end cut, or -1 */
  int64_t bytesRead;         /* as PcapReader.stats.bytesRead */
  double packets, snapped;
  double firstAt, lastAt;
} PcapScan;

/* Where one batch's records go: frame k is buf[offsets[k], offsets[k] + lengths[k]). */
typedef struct {
  uint8_t *buf;
  int bufCap;
  int32_t *offsets, *lengths;
  double *times;
  int capacity;
} ScanBatch;

void pcap_scan_init(PcapScan *s, const PcapFormat *f, int64_t position);

/* Reads the next records of the file into batch b (at most b->capacity, as many as b->buf holds):
 * the bytes carried from the batch before first, then the file. Returns how many; s->carry then
 * points into b->buf (keep it until the next call). */
int pcap_scan_next(PcapScan *s, ScanBatch *b);

#endif
