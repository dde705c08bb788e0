import { formatEndpoint } from '../decode/address';
import { canonicalAddress } from './canonical';

/** The `st` column of /proc/net/tcp for a listening socket (TCP_LISTEN). */
const LISTEN = '0A';

/**
 * The listening TCP sockets in /proc/net/tcp or /proc/net/tcp6 text, as canonical
 * endpoints: "0.0.0.0:22", "127.0.0.1:8000", "[::]:80". The kernel prints each address as
 * the hex of its bytes in memory, 32 bits at a time: on a little-endian host 127.0.0.1 is
 * "0100007F". `littleEndian` says which way to read them (the host's own by default).
 */
export function parseTcpListeners(text: string, littleEndian = isLittleEndian()): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4 || cols[3] !== LISTEN) continue;
    const [hex, portHex] = cols[1]!.split(':');
    if (hex === undefined || portHex === undefined || (hex.length !== 8 && hex.length !== 32)) continue;
    const bytes: number[] = [];
    for (let w = 0; w < hex.length; w += 8) {
      const word = [0, 2, 4, 6].map((i) => parseInt(hex.slice(w + i, w + i + 2), 16));
      bytes.push(...(littleEndian ? word.reverse() : word));
    }
    const address = hex.length === 8 ? bytes.join('.') : ipv6Text(bytes);
    const canonical = canonicalAddress(address);
    if (canonical === null) continue;
    const port = parseInt(portHex, 16);
    out.push(formatEndpoint(canonical.text, port, canonical.family));
  }
  return [...new Set(out)].sort();
}

/**
 * The listening sockets of the namespace whose /proc net directory is `netDir` ("/proc/net",
 * "/proc/PID/net"), from its tcp and tcp6; null when tcp cannot be read (a process gone, no
 * procfs), which is not "none". tcp6 is absent when IPv6 is off.
 */
export function readTcpListeners(read: (path: string) => string | null, netDir: string): string[] | null {
  const tcp = read(`${netDir}/tcp`);
  if (tcp === null) return null;
  return [...new Set([...parseTcpListeners(tcp), ...parseTcpListeners(read(`${netDir}/tcp6`) ?? '')])].sort();
}

function ipv6Text(bytes: number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/**
 * The listening sockets in `ss -Hltn` output, in the same form: its fourth column is the
 * local address and port ("0.0.0.0:22", "[::]:80", "127.0.0.53%lo:53", "*:80"). "*" is a
 * dual-stack wildcard, written "[::]"; an interface scope ("%lo") is dropped.
 */
export function parseSsListeners(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols[0] !== 'LISTEN' || cols.length < 5) continue;
    const local = cols[3]!;
    const colon = local.lastIndexOf(':');
    const port = Number(local.slice(colon + 1));
    let host = local.slice(0, colon).replace(/%[^\]]*/, '');
    if (host === '*') host = '::';
    if (host.startsWith('[')) host = host.slice(1, -1);
    const canonical = canonicalAddress(host);
    if (canonical === null || !Number.isInteger(port)) continue;
    out.push(formatEndpoint(canonical.text, port, canonical.family));
  }
  return [...new Set(out)].sort();
}
