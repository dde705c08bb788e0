/**
 * IP address text forms. On the hot path addresses stay as 4 x uint32 words
 * (network order, IPv4 stored IPv4-mapped in word 3); these turn them into text at
 * the edge (reports, flow ids) and back (CLI flags, context files).
 */

/** "a.b.c.d" for a uint32 IPv4 address in network order (first octet in the top byte). */
export function ipv4ToString(u32: number): string {
  return `${(u32 >>> 24) & 0xff}.${(u32 >>> 16) & 0xff}.${(u32 >>> 8) & 0xff}.${u32 & 0xff}`;
}

function isV4Mapped(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/**
 * Canonical text of an address held as 4 words. Version 4 prints word 3 dotted;
 * version 6 follows RFC 5952: lower-case hex, no leading zeros, the longest run of
 * two or more zero groups (the first one on a tie) as "::", and IPv4-mapped
 * addresses as "::ffff:a.b.c.d" (section 5).
 */
export function formatAddress(words: Uint32Array, version: 4 | 6): string {
  if (version === 4) return ipv4ToString(words[3]!);
  if (isV4Mapped(words)) return `::ffff:${ipv4ToString(words[3]!)}`;
  return formatIpv6Groups(words);
}

/**
 * RFC 5952 text of an IPv6 address: lowercase hex groups, the longest run of two or more
 * zero groups (the first of equal runs) as "::". Plain loops, no closures or array
 * builtins: it runs for every flow address that is printed, and compiles small.
 */
function formatIpv6Groups(words: Uint32Array): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (group(words, i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && group(words, j) === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 4.2.2: a single zero group is not shortened.
  if (bestLen < 2) return hexGroups(words, 0, 8);
  return `${hexGroups(words, 0, bestStart)}::${hexGroups(words, bestStart + bestLen, 8)}`;
}

function group(words: Uint32Array, i: number): number {
  const w = words[i >> 1]!;
  return (i & 1) === 0 ? w >>> 16 : w & 0xffff;
}

function hexGroups(words: Uint32Array, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += (i > from ? ':' : '') + group(words, i).toString(16);
  return text;
}

/** "1.2.3.4:80" or "[::1]:80" (RFC 5952 section 6). */
export function formatEndpoint(ip: string, port: number, version: 4 | 6): string {
  return version === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** An address parsed from text, in the same 4-word layout the decoders use. */
export interface ParsedAddress {
  readonly version: 4 | 6;
  readonly words: Uint32Array;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    // Leading zeros are refused: inet_aton would read "010" as octal.
    if (!DECIMAL_OCTET.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value >>> 0;
}

function parseGroups(text: string, allowV4Tail: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (allowV4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function parseIpv6(text: string): Uint32Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!, false);
    const tail = parseGroups(halves[1]!, true);
    if (head === null || tail === null) return null;
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    const all = parseGroups(text, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  }
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return words;
}

/**
 * Parses "192.0.2.1" or an IPv6 address in any RFC 4291 text form (with "::" and an
 * optional dotted IPv4 tail). No brackets, ports, prefixes or zone ids. Returns null
 * when the text is not an address.
 */
export function parseAddress(text: string): ParsedAddress | null {
  if (text.includes(':')) {
    const words = parseIpv6(text);
    return words === null ? null : { version: 6, words };
  }
  const v4 = parseIpv4(text);
  if (v4 === null) return null;
  return { version: 4, words: Uint32Array.of(0, 0, 0xffff, v4) };
}

/** The /24 (IPv4) or /64 (IPv6) a client address belongs to, as "10.1.2.0/24" or "2001:db8:0:1::/64"; the text itself when it is no address. */
export function clientSubnetOf(ip: string): string {
  const p = parseAddress(ip);
  if (p === null) return ip;
  const w = Uint32Array.from(p.words);
  if (p.version === 4) {
    w[3] = w[3]! & 0xffffff00;
    return `${formatAddress(w, 4)}/24`;
  }
  w[2] = 0;
  w[3] = 0;
  return `${formatAddress(w, 6)}/64`;
}

/** A 48-bit MAC held as a number, as "aa:bb:cc:dd:ee:ff". */
export function formatMac(mac: number): string {
  return mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}
