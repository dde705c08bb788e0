import { NativeCapture } from '../capture/native-capture';
import { loadNativeAddon, type NativeAddon } from '../native/addon';
import type { CaptureBackend, LiveHandle, OpenRequest, PacketSink } from './capture-backend';
import { captureOpenError } from './capture-errors';

/** The project's addon, or why it cannot capture. */
export function loadNativeBackend(): { backend: CaptureBackend } | { reason: string } {
  const load = loadNativeAddon();
  return 'reason' in load ? load : { backend: new NativeBackend(load.addon) };
}

/**
 * Capture through native/: libpcap's own timestamps and drop counters, the snaplen
 * applied in the kernel, no promiscuous mode, and packets handed over in batches (one
 * call into C per poll, not one per packet).
 */
class NativeBackend implements CaptureBackend {
  readonly name = 'native' as const;

  constructor(private readonly addon: NativeAddon) {}

  open(request: OpenRequest, sink: PacketSink): LiveHandle {
    let capture: NativeCapture;
    try {
      capture = new NativeCapture(
        this.addon.openCapture({ device: request.device, filter: request.filter, snaplen: request.snaplen, bufferBytes: request.bufferBytes, promiscuous: false }),
      );
    } catch (e) {
      const err = e as Error & { code?: string };
      throw captureOpenError(request, err.message, err.code);
    }
    return {
      linkType: capture.linkType,
      poll: () => capture.poll(sink),
      stats: () => capture.stats(),
      close: () => capture.close(),
    };
  }
}
