import type { CaptureInterface, CaptureSource, ReaderStats } from '../capture/record';

/** One captured interface as the analysis reports it: its packets, snaps and libpcap's drops. */
export class LiveSource implements CaptureSource {
  readonly format = 'live' as const;
  readonly interfaces: CaptureInterface[];
  readonly stats: ReaderStats = { packets: 0, bytesRead: 0, truncatedAt: null, snapped: 0 };
  private dropped: number | null = null;

  constructor(
    /** "live:docker_gwbridge", "live:eth0@ingress_sbox". */
    readonly source: string,
    name: string,
    linkType: number,
    snaplen: number,
    filter: string,
    readonly namespacePath?: string,
  ) {
    // The window opens with its source; ended() closes it.
    this.interfaces = [{ name, linkType, snaplen, section: 0, dropped: null, filter, capturedFrom: Date.now() / 1000 }];
  }

  /** The capture of this window has stopped (or rotated): it ran until now. */
  ended(): void {
    this.interfaces[0]!.capturedTo = Date.now() / 1000;
  }

  count(caplen: number, origLen: number): void {
    this.stats.packets++;
    this.stats.bytesRead += caplen;
    if (caplen < origLen) this.stats.snapped++;
  }

  /** libpcap's ring-buffer and interface drops, when the backend can read them. */
  setDropped(dropped: number | null): void {
    this.dropped = dropped;
    this.interfaces[0]!.dropped = dropped;
  }

  droppedByCapture(): number | null {
    return this.dropped;
  }
}
