/** Words for the short names in evidence keys (`arpRequestsOnBridge` reads "ARP requests on bridge"). */
const ACRONYMS: Record<string, string> = {
  arp: 'ARP',
  mac: 'MAC',
  macs: 'MACs',
  nat: 'NAT',
  dnat: 'DNAT',
  snat: 'SNAT',
  syn: 'SYN',
  syns: 'SYNs',
  ack: 'ACK',
  acks: 'ACKs',
  rst: 'RST',
  icmp: 'ICMP',
  ip: 'IP',
  ips: 'IPs',
  isn: 'ISN',
  tcp: 'TCP',
  paws: 'PAWS',
  rtt: 'RTT',
  ts: 'TS',
};

/** How many items of a list are printed before "... (N in all)". */
export const LIST_ITEMS = 8;

/** `answeredOtherClients` → "answered other clients"; `synAcks` → "SYN-ACKs"; acronyms in capitals. */
export function keyInWords(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_]+/)
    .filter((w) => w.length > 0)
    .map((w) => ACRONYMS[w.toLowerCase()] ?? w.toLowerCase());
  return words.join(' ').replace(/\bSYN ACKs\b/g, 'SYN-ACKs').replace(/\bSYN ACK\b/g, 'SYN-ACK');
}

/**
 * An evidence value in words: lists comma-separated and bounded, objects as "key value" pairs,
 * lists of objects one after another with "; " between them. Never JSON.
 */
export function valueInWords(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (Array.isArray(value)) {
    if (value.length === 0) return 'none';
    const objects = value.some((v) => typeof v === 'object' && v !== null);
    const shown = value.slice(0, LIST_ITEMS).map((v) => (objects && isRecord(v) ? `(${recordInWords(v)})` : valueInWords(v)));
    const rest = value.length > LIST_ITEMS ? `${objects ? '; ' : ', '}... (${value.length} in all)` : '';
    return shown.join(objects ? '; ' : ', ') + rest;
  }
  if (isRecord(value)) return recordInWords(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

function recordInWords(record: Record<string, unknown>): string {
  return Object.entries(record)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${keyInWords(k)} ${isRecord(v) ? `(${recordInWords(v)})` : valueInWords(v)}`)
    .join(', ');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
