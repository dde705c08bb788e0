/** Words after which libpcap reads the rest of a filter at other offsets (an encapsulation's): alternatives there no longer take every packet. */
const SHIFTING = new Set(['vlan', 'mpls', 'pppoes', 'geneve']);

/**
 * Whether a capture filter in libpcap's language surely keeps every TCP packet: empty, or
 * only `or` at its top level with `tcp` one of the alternatives, as synscope live's default
 * `tcp or icmp or icmp6 or arp or (udp port 4789)` has. Anything else (`port 8080`,
 * `tcp and host 10.0.0.5`, and `tcp or arp and host x`, which libpcap reads as
 * `(tcp or arp) and host x`: its and/or bind alike, left to right) may leave out the packets
 * a hop should have shown, so an empty capture on that interface proves nothing.
 */
export function keepsEveryTcpPacket(filter: string): boolean {
  const tokens = filter.match(/\(|\)|&&|\|\||!|[^\s()&|!]+/g) ?? [];
  if (tokens.length === 0) return true;
  let depth = 0;
  const alternatives: string[][] = [[]];
  for (const token of tokens) {
    if (SHIFTING.has(token)) return false;
    if (token === '(') depth++;
    else if (token === ')') depth--;
    else if (depth === 0 && (token === 'and' || token === '&&')) return false;
    else if (depth === 0 && (token === 'or' || token === '||')) {
      alternatives.push([]);
      continue;
    }
    alternatives[alternatives.length - 1]!.push(token);
  }
  return alternatives.some((a) => a.join(' ') === 'tcp' || a.join(' ') === '( tcp )');
}
