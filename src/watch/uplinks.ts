import * as fs from 'node:fs';

const RTF_UP = 0x1;
const RTF_REJECT = 0x200;

/**
 * The interfaces holding a default route (IPv4 or IPv6, main table) in the namespace the
 * main thread is in, sorted, each once. Read from /proc/net/route and /proc/net/ipv6_route,
 * which follow the thread's namespace (so this works inside inNetns). /proc/net/route shows
 * only the first nexthop of a multipath default route; policy-routing tables other than
 * main are not looked at.
 */
export function defaultRouteInterfaces(): string[] {
  const devices = new Set<string>();
  for (const d of ipv4Defaults(readOrEmpty('/proc/net/route'))) devices.add(d);
  for (const d of ipv6Defaults(readOrEmpty('/proc/net/ipv6_route'))) devices.add(d);
  return [...devices].sort();
}

/** "Iface Destination Gateway Flags RefCnt Use Metric Mask ...", hex fields, a header line first. */
export function ipv4Defaults(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, , flags, , , , mask] = line.trim().split(/\s+/);
    if (iface === undefined || mask === undefined) continue;
    if (destination === '00000000' && mask === '00000000' && (parseInt(flags!, 16) & RTF_UP) !== 0) out.push(iface);
  }
  return out;
}

/**
 * "dest destlen src srclen nexthop metric refcnt use flags device", no header. The kernel
 * lists an unreachable default on lo (RTF_REJECT) in every namespace with IPv6: not an uplink.
 */
export function ipv6Defaults(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const flags = parseInt(f[8]!, 16);
    if (/^0{32}$/.test(f[0]!) && f[1] === '00' && (flags & RTF_UP) !== 0 && (flags & RTF_REJECT) === 0 && f[9] !== 'lo') out.push(f[9]!);
  }
  return out;
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
