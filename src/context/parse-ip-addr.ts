import { canonicalAddress } from './canonical';
import type { InterfaceAddress, NetInterface } from './host-context';
import { isObject, num, parseJsonArray, str } from './json-fields';

/**
 * Addresses per interface index from `ip -j addr show`. For a point-to-point address
 * the interface's own side (`local`) is kept, not the peer.
 */
export function parseIpAddr(text: string): Map<number, InterfaceAddress[]> {
  const out = new Map<number, InterfaceAddress[]>();
  for (const l of parseJsonArray(text, 'ip -j addr show')) {
    const index = num(l, 'ifindex');
    const infos = l['addr_info'];
    if (index === null || !Array.isArray(infos)) continue;
    const list: InterfaceAddress[] = [];
    for (const a of infos) {
      if (!isObject(a)) continue;
      const family = str(a, 'family');
      const local = str(a, 'local');
      const prefixLength = num(a, 'prefixlen');
      if ((family !== 'inet' && family !== 'inet6') || local === null || prefixLength === null) continue;
      const addr = canonicalAddress(local);
      if (addr === null || addr.family !== (family === 'inet' ? 4 : 6)) continue;
      list.push({ family: addr.family, address: addr.text, prefixLength });
    }
    out.set(index, list);
  }
  return out;
}

/** The interfaces with their addresses filled in from `parseIpAddr`'s map (new objects). */
export function withAddresses(interfaces: readonly NetInterface[], addresses: ReadonlyMap<number, InterfaceAddress[]>): NetInterface[] {
  return interfaces.map((i) => ({ ...i, addresses: addresses.get(i.index) ?? [] }));
}
