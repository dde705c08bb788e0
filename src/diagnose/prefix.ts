import { parseAddress } from '../decode/address';

/**
 * Address prefixes as plain numbers for the hot loops of the route simulation and the
 * rules (ip-num's objects are too slow to build once per flow and route). IPv4 values
 * are numbers (uint32), IPv6 values bigints.
 */
export type AddressValue = number | bigint;

export interface Prefix {
  readonly version: 4 | 6;
  readonly length: number;
  /** IPv4: network and mask as uint32. */
  readonly net4: number;
  readonly mask4: number;
  /** IPv6: the network shifted right by 128 - length, and that shift. */
  readonly top6: bigint;
  readonly shift6: bigint;
}

/** Address text → number (IPv4) or bigint (IPv6), or null when it is not an address. */
export function addressValue(text: string): AddressValue | null {
  let v = recent.get(text);
  if (v === undefined) {
    if (recent.size >= RECENT_MAX) recent.clear();
    v = parse(text);
    recent.set(text, v);
  }
  return v;
}

/** Server and interface addresses recur once per flow; clients mostly do not. */
const recent = new Map<string, AddressValue | null>();
const RECENT_MAX = 4096;

function parse(text: string): AddressValue | null {
  const p = parseAddress(text);
  if (p === null) return null;
  if (p.version === 4) return p.words[3]!;
  let v = 0n;
  for (const w of p.words) v = (v << 32n) | BigInt(w);
  return v;
}

/** "a.b.c.d/n", "x::/n", a bare address (host route), or "default" of `family`. Null when invalid. */
export function parsePrefix(text: string, family: 4 | 6 = text.includes(':') ? 6 : 4): Prefix | null {
  if (text === 'default') return make(family, 0, family === 4 ? 0 : 0n);
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const value = addressValue(addr);
  if (value === null) return null;
  const bits = typeof value === 'number' ? 32 : 128;
  const length = slash < 0 ? bits : Number(text.slice(slash + 1));
  if (!Number.isInteger(length) || length < 0 || length > bits || text.slice(slash + 1) === '') return null;
  return make(bits === 32 ? 4 : 6, length, value);
}

function make(version: 4 | 6, length: number, value: AddressValue): Prefix {
  if (version === 4) {
    const mask4 = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    return { version, length, net4: (Number(value) & mask4) >>> 0, mask4, top6: 0n, shift6: 0n };
  }
  const shift6 = BigInt(128 - length);
  return { version, length, net4: 0, mask4: 0, top6: BigInt(value) >> shift6, shift6 };
}

/** True when the address value lies inside the prefix (same family only). */
export function prefixContains(p: Prefix, value: AddressValue): boolean {
  if (p.version === 4) return typeof value === 'number' && ((value ^ p.net4) & p.mask4) === 0;
  return typeof value === 'bigint' && value >> p.shift6 === p.top6;
}

/** True when the address text lies inside the CIDR text. */
export function cidrContains(cidr: string, ip: string): boolean {
  const p = parsePrefix(cidr);
  const v = addressValue(ip);
  return p !== null && v !== null && prefixContains(p, v);
}

/** True when `inner` lies inside `outer` and is strictly more specific. */
export function isMoreSpecific(inner: string, outer: string): boolean {
  const i = parsePrefix(inner);
  const o = parsePrefix(outer);
  if (i === null || o === null || i.version !== o.version || i.length <= o.length) return false;
  return prefixContains(o, i.version === 4 ? i.net4 : i.top6 << i.shift6);
}

/** Prefix length of a CIDR text, or null. */
export function prefixLength(cidr: string): number | null {
  return parsePrefix(cidr)?.length ?? null;
}
