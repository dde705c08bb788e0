/**
 * The Internet checksum (RFC 1071) as the synthetic packet builder needs it: a
 * running one's-complement sum that several byte ranges and a pseudo-header feed,
 * folded once at the end.
 */

/**
 * Adds the bytes `buf[start..end)` as big-endian 16-bit words to `acc` (an odd
 * trailing byte is padded with a zero, RFC 1071 4.1). The result is not folded:
 * pass it on to further calls, then to {@link finishChecksum}. A plain Number holds
 * any sum a packet can produce (65535 * 2^36 < 2^53), so no folding per step.
 */
export function sumBytes(buf: Uint8Array, start: number, end: number, acc: number): number {
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!;
  if (i === last) acc += buf[i]! << 8;
  return acc;
}

/** Folds a running sum to 16 bits and complements it: the value to store in the header. */
export function finishChecksum(acc: number): number {
  // Two folds suffice for sums below 2^32; larger sums (huge inputs) need the loop.
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** Checksum of one byte range (IPv4 header, ICMPv4 message). */
export function internetChecksum(buf: Uint8Array, start: number, end: number): number {
  return finishChecksum(sumBytes(buf, start, end, 0));
}
