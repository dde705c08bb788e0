import { ErrorCode, SynscopeError } from '../errors';
import { npmInPackage } from '../native/package-root';
import type { CaptureBackend, LiveHandle, OpenRequest, PacketSink } from './capture-backend';
import { captureOpenError } from './capture-errors';
import { WallClock } from './wall-clock';

/** The parts of the `cap` binding synscope uses. */
interface CapModule {
  Cap: new () => CapHandle;
}

interface CapHandle {
  open(device: string, filter: string, bufferBytes: number, buffer: Buffer): string;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  close(): void;
}

/** cap names a few link types; anything else comes back as "Unknown linktype N". */
const CAP_LINK_TYPES: Record<string, number> = { NULL: 0, ETHERNET: 1, RAW: 101, LINKTYPE_LINUX_SLL: 113, IEEE802_11_RADIO: 127 };

export const CAP_MISSING_FIX = `the cap binding is not built: apt-get install -y libpcap-dev build-essential python3, then \`${npmInPackage('rebuild cap')}\``;

/** Load `cap`, or say why it cannot be used. */
export function loadCapBackend(): { backend: CaptureBackend } | { reason: string } {
  let cap: CapModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cap = require('cap') as CapModule;
  } catch {
    return { reason: CAP_MISSING_FIX };
  }
  return { backend: new CapBackend(cap) };
}

/**
 * Capture through the npm `cap` binding: one JavaScript call per packet, no capture
 * timestamps (the time is taken on delivery), no drop counters, promiscuous mode and
 * libpcap's 65535-byte snaplen (the copy into JavaScript is cut at the snaplen).
 */
class CapBackend implements CaptureBackend {
  readonly name = 'cap' as const;

  constructor(private readonly cap: CapModule) {}

  open(request: OpenRequest, sink: PacketSink): LiveHandle {
    const handle = new this.cap.Cap();
    // cap keeps only a raw pointer to this buffer: it must stay referenced for the
    // handle's whole life (the packet listener below holds it), or the collector frees
    // it under libpcap and the process dies of heap corruption.
    const buffer = Buffer.alloc(request.snaplen);
    let linkTypeName: string;
    try {
      linkTypeName = handle.open(request.device, request.filter, request.bufferBytes, buffer);
    } catch (e) {
      throw captureOpenError(request, (e as Error).message);
    }
    const linkType = CAP_LINK_TYPES[linkTypeName] ?? Number(/(\d+)$/.exec(linkTypeName)?.[1] ?? NaN);
    if (!Number.isInteger(linkType)) {
      handle.close();
      throw new SynscopeError(ErrorCode.CAPTURE_UNAVAILABLE, `${request.device}: cap reported link type "${linkTypeName}"`);
    }
    const clock = new WallClock();
    handle.on('packet', (nbytes, truncated) => {
      clock.now();
      // cap does not pass the wire length; a cut packet is at least one byte longer.
      sink(buffer, 0, nbytes, truncated ? nbytes + 1 : nbytes, clock.sec, clock.nsec);
    });
    return {
      linkType,
      poll: () => 0,
      stats: () => null,
      close: () => handle.close(),
    };
  }
}
