import { formatAddress, parseAddress } from '../decode/address';
import { parseSubnet } from '../net/cidr';

/** Canonical text of an address (IPv6 compressed per RFC 5952) and its family, or null. */
export function canonicalAddress(text: string): { family: 4 | 6; text: string } | null {
  const parsed = parseAddress(text);
  if (parsed === null) return null;
  return { family: parsed.version, text: formatAddress(parsed.words, parsed.version) };
}

/**
 * Canonical CIDR with host bits cleared. A bare address becomes a host route (/32 or
 * /128), as `ip route` prints them; "default" becomes 0.0.0.0/0 or ::/0 for `family`.
 * Null when the text is not a prefix of that family.
 */
export function canonicalPrefix(text: string, family: 4 | 6): string | null {
  if (text === 'default') return family === 4 ? '0.0.0.0/0' : '::/0';
  if (text.includes('/')) {
    const subnet = parseSubnet(text);
    return subnet !== null && subnet.version === family ? subnet.text : null;
  }
  const addr = canonicalAddress(text);
  if (addr === null || addr.family !== family) return null;
  return parseSubnet(`${addr.text}/${addr.family === 4 ? 32 : 128}`)?.text ?? null;
}
