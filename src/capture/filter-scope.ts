/**
 * Whether a capture filter in libpcap's language surely keeps every TCP packet: empty, or
 * only `or` at its top level with `tcp` one of the alternatives, as synscope live's default
 * `tcp or icmp or icmp6 or arp or (udp port 4789)` has. Anything else (`port 8080`,
 * `tcp and host 10.0.0.5`, and `tcp or arp and host x`, which libpcap reads as
 * `(tcp or arp) and host x`: its and/or bind alike, left to right) may leave out the packets
 * a hop should have shown, so an empty capture on that interface proves nothing.
 */
export function keepsEveryTcpPacket(filter: string): boolean {
  const text = filter.trim();
  if (text === '') return true;
  let depth = 0;
  let term = '';
  const terms: string[] = [];
  for (const word of text.split(/\s+/)) {
    for (const c of word) depth += c === '(' ? 1 : c === ')' ? -1 : 0;
    if ((word === 'and' || word === '&&') && depth === 0) return false;
    if ((word === 'or' || word === '||') && depth === 0) {
      terms.push(term.trim());
      term = '';
    } else {
      term += ` ${word}`;
    }
  }
  terms.push(term.trim());
  return terms.some((t) => t === 'tcp' || t === 'ip proto tcp' || t === '(tcp)');
}
