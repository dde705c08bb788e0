import { parseSubnet } from '../net/cidr';
import type { BridgeSubnet } from './bridge';
import type { HostContext } from './host-context';

/**
 * The bridge subnets a snapshot knows: every bridge interface's addresses, and every
 * Docker network that has a bridge device (docker0, docker_gwbridge, br-<id>), even
 * when the device has no address yet. Flags given by hand come first and win.
 */
export function bridgesFromContext(ctx: HostContext, byHand: readonly BridgeSubnet[] = []): BridgeSubnet[] {
  const out = [...byHand];
  const add = (name: string, cidr: string) => {
    const subnet = parseSubnet(cidr);
    if (subnet === null) return;
    if (out.some((b) => b.name === name && b.subnet.text === subnet.text)) return;
    out.push({ name, subnet, source: 'context' });
  };
  for (const i of ctx.interfaces) {
    if (i.kind !== 'bridge') continue;
    for (const a of i.addresses) {
      if (a.family === 6 && a.address.toLowerCase().startsWith('fe80:')) continue;
      add(i.name, `${a.address}/${a.prefixLength}`);
    }
  }
  for (const n of ctx.dockerNetworks ?? []) {
    if (n.bridge === null) continue;
    for (const s of n.subnets) add(n.bridge, s);
  }
  return out;
}
