import { formatAddress, parseAddress } from '../decode/address';
import type { DropEvent, KernelEvent, SynAckRetransmitEvent } from './kernel-evidence';

/** What one line of a tracefs `trace` file says. */
export type TraceLine =
  | { kind: 'event'; event: KernelEvent }
  /** A kfree_skb the evidence leaves out: not IPv4/IPv6, reason NOT_SPECIFIED, or a kernel that prints no reason. */
  | { kind: 'ignored' }
  /** "CPU:1 [LOST 42 EVENTS]": the ring buffer lost events there. */
  | { kind: 'lost'; events: number }
  /** A comment, a blank line, another event, or a line this parser does not know. */
  | { kind: 'other' };

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;

/**
 * "  <idle>-0  [001] ..s1.  7482.220528: kfree_skb: skbaddr=...": task-pid, an optional
 * "(tgid)" column, [cpu], optional irq flags, the timestamp in seconds, the event name and
 * its printed fields. The task name may itself hold dashes and spaces.
 */
const EVENT_LINE = /^\s*.+-\d+\s+(?:\(\s*[\d-]+\)\s+)?\[\d+\]\s+(?:\S+\s+)?(\d+\.\d+):\s+(\w+):\s?(.*)$/;
const LOST_LINE = /^CPU:\s*\d+\s+\[LOST (\d+) EVENTS\]/;

/**
 * Parses one line; `clockOffset` turns the trace timestamp (seconds on the instance's
 * trace clock) into Unix seconds.
 */
export function parseTraceLine(line: string, clockOffset: number): TraceLine {
  const m = EVENT_LINE.exec(line);
  if (m === null) {
    const lost = LOST_LINE.exec(line);
    return lost === null ? { kind: 'other' } : { kind: 'lost', events: Number(lost[1]) };
  }
  const at = Number(m[1]) + clockOffset;
  if (m[2] === 'kfree_skb') {
    const drop = parseKfreeSkb(m[3]!, at);
    return drop === null ? { kind: 'ignored' } : { kind: 'event', event: drop };
  }
  if (m[2] === 'tcp_retransmit_synack') {
    const synAck = parseRetransmitSynAck(m[3]!, at);
    return synAck === null ? { kind: 'other' } : { kind: 'event', event: synAck };
  }
  return { kind: 'other' };
}

/**
 * kfree_skb prints "skbaddr=%p rx_sk=%p protocol=%u location=%pS reason: %s" (Linux 6.x;
 * 5.17 added the reason, 6.9 rx_sk). Before 5.17 there is no reason: every free looks
 * alike, so such lines are ignored. Reason 2 (NOT_SPECIFIED) is any drop without a
 * reason of its own, mostly unrelated to TCP.
 */
function parseKfreeSkb(fields: string, at: number): DropEvent | null {
  const protocol = /(?:^|\s)protocol=(\d+)/.exec(fields);
  const reason = /\sreason: (\S+)/.exec(fields);
  if (protocol === null || reason === null) return null;
  const ethertype = Number(protocol[1]);
  if ((ethertype !== ETHERTYPE_IPV4 && ethertype !== ETHERTYPE_IPV6) || reason[1] === 'NOT_SPECIFIED') return null;
  const location = /(?:^|\s)location=(\S+)/.exec(fields)?.[1] ?? null;
  // Kernels that print %p instead of %pS give a (hashed) address, which names nothing.
  return { kind: 'drop', at, reason: reason[1]!, protocol: ethertype, location: location === null || /^(0x)?[0-9a-f]+$/i.test(location) ? null : location };
}

/**
 * tcp_retransmit_synack prints "family=AF_INET sport=%hu dport=%hu saddr=%pI4 daddr=%pI4
 * saddrv6=%pI6c daddrv6=%pI6c" (family since Linux 5.x). The IPv4 fields of an IPv6
 * request hold leftovers and its IPv6 fields of an IPv4 one the v4-mapped form, so the
 * family picks the pair; without it a v4-mapped IPv6 pair means IPv4.
 */
function parseRetransmitSynAck(text: string, at: number): SynAckRetransmitEvent | null {
  const f = keyValues(text);
  const sport = Number(f.get('sport'));
  const dport = Number(f.get('dport'));
  if (!Number.isInteger(sport) || !Number.isInteger(dport)) return null;
  const family = f.get('family');
  const v4 = family === 'AF_INET' ? true : family === 'AF_INET6' ? false : null;
  const server = pickAddress(v4, f.get('saddr'), f.get('saddrv6'));
  const client = pickAddress(v4, f.get('daddr'), f.get('daddrv6'));
  if (server === null || client === null) return null;
  return { kind: 'synack-retransmit', at, serverAddress: server, serverPort: sport, clientAddress: client, clientPort: dport };
}

function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/** The address in canonical text; v4-mapped IPv6 becomes IPv4, as the flow tracker writes it. */
function pickAddress(v4: boolean | null, ipv4: string | undefined, ipv6: string | undefined): string | null {
  const text = v4 === true ? ipv4 : ipv6 ?? (v4 === null ? ipv4 : undefined);
  if (text === undefined) return null;
  const parsed = parseAddress(text);
  if (parsed === null) return null;
  const w = parsed.words;
  const mapped = w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
  return formatAddress(w, parsed.version === 4 || mapped ? 4 : 6);
}

/**
 * Collects the events of a trace file line by line, keeping the first `limit` and
 * counting the rest, so memory stays bounded whatever the buffer held.
 */
export class TraceEventCollector {
  readonly events: KernelEvent[] = [];
  /** Events past the limit, not kept. */
  notKept = 0;
  /** Events the ring buffer reported lost ("[LOST n EVENTS]" lines). */
  lost = 0;
  /** kfree_skb lines left out (not IP, NOT_SPECIFIED, no reason). */
  ignored = 0;

  constructor(
    private readonly clockOffset: number,
    private readonly limit: number,
  ) {}

  add(line: string): void {
    const parsed = parseTraceLine(line, this.clockOffset);
    if (parsed.kind === 'event') {
      if (this.events.length < this.limit) this.events.push(parsed.event);
      else this.notKept++;
    } else if (parsed.kind === 'lost') {
      this.lost += parsed.events;
    } else if (parsed.kind === 'ignored') {
      this.ignored++;
    }
  }
}
