import { formatMac } from '../decode/address';

/** MACs remembered per interface; a host's link shows its own MAC and a few peers'. */
const MAX_MACS_PER_INTERFACE = 32;

/**
 * The unicast MACs each interface's frames came from or went to (handshake packets and
 * ARP only), for checking a host context against the capture: every unicast frame on a
 * host's own link is from or to that host's MAC, unless the link is a bridge.
 */
export class LinkMacs {
  private readonly byInterface: number[][] = [];
  /** Interfaces that showed a frame to one machine: only there must the host's MAC appear. */
  private readonly unicast: boolean[] = [];

  /** Lists kept elsewhere (the C port in native/src/engine/frame-evidence.c): per interface [id, showed a unicast frame (0/1), n, MAC x n]. */
  static fromLists(links: Float64Array): LinkMacs {
    const l = new LinkMacs();
    for (let at = 0; at < links.length; ) {
      const iface = links[at]!;
      const n = links[at + 2]!;
      l.byInterface[iface] = Array.from(links.subarray(at + 3, at + 3 + n));
      if (links[at + 1] === 1) l.unicast[iface] = true;
      at += 3 + n;
    }
    return l;
  }

  /** A frame on interface `iface` between `src` and `dst` (48-bit MACs). */
  note(iface: number, src: number, dst: number): void {
    let list = this.byInterface[iface];
    if (list === undefined) {
      list = [];
      this.byInterface[iface] = list;
    }
    add(list, src);
    // The group bit (lowest bit of the first octet) marks broadcast and multicast.
    if (Math.floor(dst / 2 ** 40) % 2 === 0) {
      add(list, dst);
      this.unicast[iface] = true;
    }
  }

  /**
   * Interface name → MACs ("aa:bb:..."), for the interfaces that showed a unicast frame. An
   * interface that only heard broadcasts (ARP requests the host never answered) says nothing
   * about whose MAC it has, unless `withBroadcastOnly`: then the broadcasts' senders count too
   * (the host's own ARP requests name the link it asked on).
   */
  named(names: readonly string[], withBroadcastOnly = false): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [iface, list] of this.byInterface.entries()) {
      if (list === undefined || (this.unicast[iface] !== true && !withBroadcastOnly)) continue;
      const name = names[iface]!;
      out.set(name, [...(out.get(name) ?? []), ...list.map(formatMac)]);
    }
    return out;
  }
}

function add(list: number[], mac: number): void {
  if (list.length < MAX_MACS_PER_INTERFACE && !list.includes(mac)) list.push(mac);
}
