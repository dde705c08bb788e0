import { isIPv4, isIPv6 } from 'node:net';

/**
 * Text to bytes for the synthetic packet builder: IPv4 / IPv6 addresses and MACs.
 * Builders take text at their edges (readable scenarios) and bytes inside.
 */

/** Parses an IPv4 or IPv6 address; returns its 4 or 16 network-order bytes. Throws on anything else. */
export function parseIp(text: string): Uint8Array {
  if (isIPv4(text)) return parseIpv4(text);
  if (isIPv6(text) && !text.includes('%')) return parseIpv6(text);
  throw new TypeError(`not an IPv4 or IPv6 address: ${JSON.stringify(text)}`);
}

function parseIpv4(text: string): Uint8Array {
  const out = new Uint8Array(4);
  const parts = text.split('.');
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

function parseIpv6(text: string): Uint8Array {
  const out = new Uint8Array(16);
  // A trailing dotted quad (::ffff:1.2.3.4) supplies the last 32 bits.
  let tail: Uint8Array | null = null;
  let body = text;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) !== -1) {
    tail = parseIpv4(text.slice(lastColon + 1));
    body = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = body.includes('::') ? body.split('::') as [string, string] : [body, null];
  const headWords = head === '' ? [] : head.split(':');
  const restWords = rest === null || rest === '' ? [] : rest.split(':');
  const words = new Array<number>(8).fill(0);
  headWords.forEach((w, i) => { words[i] = parseInt(w, 16); });
  restWords.forEach((w, i) => { words[8 - restWords.length + i] = parseInt(w, 16); });
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  if (tail !== null) out.set(tail, 12);
  return out;
}

/** Parses `aa:bb:cc:dd:ee:ff` (or with `-`) into 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`not a MAC address: ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}
