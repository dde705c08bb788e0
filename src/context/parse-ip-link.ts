import type { InterfaceKind, NetInterface } from './host-context';
import { isObject, num, parseJsonArray, str } from './json-fields';

/** `linkinfo.info_kind` values that name an interface kind of their own (tap devices also say "tun"). */
const KINDS_BY_INFO_KIND: Readonly<Record<string, InterfaceKind>> = {
  bridge: 'bridge',
  veth: 'veth',
  vxlan: 'vxlan',
  dummy: 'dummy',
  vlan: 'vlan',
  bond: 'bond',
  tun: 'tun',
};

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/**
 * Interfaces from `ip -j -d link show` (the `-d` adds `linkinfo`). Kind comes from
 * `linkinfo.info_kind`; a device without linkinfo and link_type "ether" is a physical
 * NIC (drivers register no rtnl link ops for it). Addresses are left empty (they come
 * from `ip -j addr show`, see parse-ip-addr.ts); bridge ports are derived from the
 * ports' `master`. Entries without a name or index are skipped.
 */
export function parseIpLink(text: string): NetInterface[] {
  const out: NetInterface[] = [];
  for (const l of parseJsonArray(text, 'ip -j -d link show')) {
    const name = str(l, 'ifname');
    const index = num(l, 'ifindex');
    if (name === null || index === null) continue;
    const flags = Array.isArray(l['flags']) ? l['flags'] : [];
    const address = str(l, 'address');
    out.push({
      name,
      index,
      kind: interfaceKind(l),
      mac: address !== null && MAC.test(address) ? address.toLowerCase() : null,
      mtu: num(l, 'mtu') ?? 0,
      up: flags.includes('UP'),
      addresses: [],
      master: str(l, 'master'),
      ports: [],
    });
  }
  for (const i of out) {
    if (i.master === null) continue;
    out.find((m) => m.name === i.master)?.ports.push(i.name);
  }
  return out;
}

function interfaceKind(l: Record<string, unknown>): InterfaceKind {
  const info = l['linkinfo'];
  const infoKind = isObject(info) ? str(info, 'info_kind') : null;
  const linkType = str(l, 'link_type');
  if (infoKind !== null) return KINDS_BY_INFO_KIND[infoKind] ?? 'other';
  if (linkType === 'loopback') return 'loopback';
  if (linkType === 'ether') return 'physical';
  return 'other';
}
