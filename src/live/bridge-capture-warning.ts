import type { HostContext } from '../context/host-context';

/**
 * The report's line for a bridge captured without promiscuous mode (the native backend):
 * the bridge device then gets only the frames the host itself routes in and out of it,
 * not those the bridge forwards between its ports (br_handle_frame_finish passes a frame up
 * to the bridge device only when it is for the host, or when the device is promiscuous).
 * Traffic between two containers of the bridge is then invisible. Said for a bridge with
 * two ports or more, where such traffic can exist; `devices` are the captured interfaces of
 * the context's namespace.
 */
export function bridgeCaptureWarnings(devices: readonly string[], context: HostContext): string[] {
  return devices.flatMap((device) => {
    const bridge = context.interfaces.find((i) => i.name === device && i.kind === 'bridge');
    if (bridge === undefined || bridge.ports.length < 2) return [];
    return [
      `${device} is a bridge (${bridge.ports.length} ports) captured without promiscuous mode: it shows what the host routes into and out of ${device}, not the traffic between the containers on it; for that, capture their ports too (-i any, or -i VETH)`,
    ];
  });
}
