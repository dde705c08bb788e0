/** What a live capture asks of libpcap for one interface. */
export interface OpenRequest {
  device: string;
  /** BPF filter in pcap-filter(7) syntax; "" keeps everything. */
  filter: string;
  /** Bytes kept of each packet. */
  snaplen: number;
  /** Size of the kernel ring buffer that holds packets until they are read. */
  bufferBytes: number;
}

/**
 * Receives one packet. `data` is the backend's own buffer, valid only during the call;
 * the time is when the packet was captured (or delivered, for backends without timestamps).
 */
export type PacketSink = (data: Buffer, offset: number, caplen: number, origLen: number, tsSec: number, tsNsec: number) => void;

/** What libpcap counted for one handle, when the backend can ask it. */
export interface HandleStats {
  /** Packets that passed the filter. */
  received: number;
  /** Packets dropped because the ring buffer was full (ps_drop). */
  dropped: number;
  /** Packets the interface or its driver dropped (ps_ifdrop). */
  ifDropped: number;
}

export interface LiveHandle {
  /** LINKTYPE_* of the interface. */
  readonly linkType: number;
  /** Hand the waiting packets (up to one batch) to the sink; returns how many. Backends that deliver by themselves return 0. */
  poll(): number;
  /** libpcap's counters, or null when the backend cannot read them. */
  stats(): HandleStats | null;
  close(): void;
}

export interface CaptureBackend {
  readonly name: 'native' | 'cap';
  /** Open and activate a capture; throws SynscopeError with a one-line reason. */
  open(request: OpenRequest, sink: PacketSink): LiveHandle;
}
