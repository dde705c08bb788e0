/** A copy of a handshake packet this soon after the first, on the same interface, is the same packet seen at another hop. */
const SAME_PACKET_SECONDS = 0.01;

/**
 * SYNs and SYN-ACKs seen twice on one interface within milliseconds: one packet captured at
 * two hops (before and after the host forwarded or translated it: the sequence number, the
 * IPv4 ID and mostly the client's port stay) that a rewrite merged into one link, as `tcpdump -r all.pcapng -w out.pcap`
 * does to a capture of several interfaces. A retransmission is never this quick (TCP's
 * first SYN timeout is a second) and carries a new IPv4 ID. Memory: the packets of the
 * last two windows of SAME_PACKET_SECONDS.
 */
export class DuplicateHandshakes {
  // An open-addressing table over typed arrays: a Map of double keys cost a tenth of a second on the bench file.
  private readonly keys = new Float64Array(SLOTS);
  private readonly wheres = new Int32Array(SLOTS);
  /** The window an entry was written in (0: empty); entries of the window before this one still count. */
  private readonly windows = new Int32Array(SLOTS);
  private window = 1;
  private windowStart = -Infinity;
  /** Handshake packets that were such a copy. */
  count = 0;

  /**
   * One SYN or SYN-ACK: its sequence number, IPv4 ID (-1 for IPv6), the client's port (a
   * SYN's source, a SYN-ACK's destination: DNAT keeps it), whether it is a SYN-ACK, and its interface.
   */
  see(seq: number, ipId: number, clientPort: number, synAck: boolean, iface: number, time: number): void {
    // Packets out of time order (merged files) move the window too, either way.
    const gap = Math.abs(time - this.windowStart);
    if (gap > SAME_PACKET_SECONDS) {
      // Past twice the window, the one before is too old to count: skip a window number.
      this.window += gap > 2 * SAME_PACKET_SECONDS ? 2 : 1;
      this.windowStart = time;
    }
    // 32 + 16 + 4 bits of the port: exact in a double.
    const key = ((seq >>> 0) * 65536 + (ipId & 0xffff)) * 16 + (clientPort & 15);
    const where = iface * 2 + (synAck ? 1 : 0);
    let i = (Math.imul(seq ^ (ipId << 16) ^ clientPort, 0x9e3779b1) >>> 0) & (SLOTS - 1);
    for (let probe = 0; probe < MAX_PROBES; probe++, i = (i + 1) & (SLOTS - 1)) {
      const w = this.windows[i]!;
      if (w < this.window - 1) {
        // Empty or stale: the packet's first sighting.
        this.keys[i] = key;
        this.wheres[i] = where;
        this.windows[i] = this.window;
        return;
      }
      if (this.keys[i] === key) {
        if (this.wheres[i] === where) this.count++;
        else {
          this.wheres[i] = where;
          this.windows[i] = this.window;
        }
        return;
      }
    }
    // A flood fills the table: packets past it go unchecked (a copy missed, never a false one).
  }
}

/** Table size: room for a few thousand handshake packets per window (several hundred thousand a second). */
const SLOTS = 8192;
const MAX_PROBES = 16;
