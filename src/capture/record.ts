/**
 * What a capture reader hands out for each packet. Readers reuse ONE record
 * object and point it into their own read buffer: the record and its bytes are
 * valid only until the reader's next `next()` call (gopacket's ZeroCopyReadPacketData
 * contract). Copy `data.subarray(offset, offset + caplen)` if you need to keep it.
 */
export interface PacketRecord {
  /** Buffer holding the packet bytes (owned by the reader). */
  data: Buffer;
  /** Start of the packet's captured bytes within `data`. */
  offset: number;
  /** Number of captured bytes. */
  caplen: number;
  /** Length of the packet on the wire (>= caplen when snapped). */
  origLen: number;
  /** Capture time: whole seconds since the Unix epoch. */
  tsSec: number;
  /** Capture time: nanoseconds within the second (0..999,999,999). */
  tsNsec: number;
  /** LINKTYPE_* of the interface the packet was captured on. */
  linkType: number;
  /** Index into the reader's `interfaces` list. */
  interfaceIndex: number;
  /** Byte offset of the record (pcap record header / pcapng block) in the file. */
  fileOffset: number;
}

export function newPacketRecord(): PacketRecord {
  return {
    data: Buffer.alloc(0),
    offset: 0,
    caplen: 0,
    origLen: 0,
    tsSec: 0,
    tsNsec: 0,
    linkType: 0,
    interfaceIndex: 0,
    fileOffset: 0,
  };
}

/** One capture interface: a pcapng IDB, or the single implicit interface of a pcap file. */
export interface CaptureInterface {
  /** if_name, or null when the file does not say (classic pcap, IDB without if_name). */
  name: string | null;
  linkType: number;
  snaplen: number;
  /** pcapng section number (0-based) the IDB belongs to; 0 for pcap. */
  section: number;
  /** if_drop / isb_ifdrop as last reported for this interface, or null if never reported. */
  dropped: number | null;
  /** The capture filter (pcapng if_filter in libpcap's language, a live capture's own), when the source says. */
  filter?: string;
  /**
   * When the capture on this interface ran (seconds), as far as the source says: pcapng's
   * isb_starttime / isb_endtime and the statistics' own time, or the live capture's window.
   * Absent when unknown (classic pcap, a pcapng without statistics).
   */
  capturedFrom?: number;
  capturedTo?: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** What a reader learned by the end of the file. */
export interface ReaderStats {
  /** Packet records handed out. */
  packets: number;
  /** Bytes consumed from the source. */
  bytesRead: number;
  /**
   * Set when the file ends in the middle of a record (a capture killed mid-write):
   * the byte offset where the incomplete record starts. Everything before it was read.
   */
  truncatedAt: number | null;
  /** Records whose caplen < origLen (snapped by the capture's snaplen). */
  snapped: number;
}

/** Where packets come from, as the analysis reports it: a file being read, or a live capture. */
export interface CaptureSource {
  readonly format: CaptureFormat | 'live';
  /** Path or label of the input, used in errors. */
  readonly source: string;
  /** Interfaces seen so far (pcapng IDBs accumulate across sections). */
  readonly interfaces: readonly CaptureInterface[];
  readonly stats: ReaderStats;
  /** Total drops reported by ISBs/if_drop (or the live capture) across interfaces, or null when none were reported. */
  droppedByCapture(): number | null;
  /** A live capture in another network namespace: that namespace's nsfs path (the label names it by basename). */
  readonly namespacePath?: string;
}

/**
 * A streaming capture reader: `for (const rec of reader)` or `reader.next()` until null.
 * Throws SynscopeError on a malformed file; an incomplete last record ends the
 * iteration and sets `stats.truncatedAt`.
 */
export interface CaptureReader extends CaptureSource, Iterable<PacketRecord> {
  readonly format: CaptureFormat;
  /** Read through gzip (its size on disk says nothing about the capture's). */
  readonly compressed?: boolean;
  /** Next packet record, or null at the end. The record object is reused. */
  next(): PacketRecord | null;
  /** Release the underlying file. Safe to call twice. */
  close(): void;
  /**
   * Calls `listener` before the reader reuses memory a record it handed out pointed into (its
   * read window moving over the buffer of two moves ago): a consumer holding records by
   * reference lets go of them there.
   */
  onBeforeBufferReuse?(listener: () => void): void;
}
