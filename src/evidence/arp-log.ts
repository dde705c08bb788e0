import { ipv4ToString } from '../decode/address';
import type { ArpSighting } from '../diagnose/input';

/** Target addresses remembered; requests for others are not counted. */
const MAX_ARP_TARGETS = 65536;
/** Asking addresses remembered per target (the ones a finding names). */
const MAX_ASKERS = 4;
/** One request seen on a bridge and on the port it went out of is one request (see interface-copy.ts). */
const COPY_WINDOW_SECONDS = 0.05;

interface TargetLog {
  requests: number;
  replies: number;
  interfaces: Set<number>;
  /** Sender address of the requests → how many it sent. */
  askers: Map<number, number>;
  lastAt: number;
  lastIface: number;
  lastSender: number;
}

/**
 * ARP by target address: who asked for it, on which interfaces, how often, and whether
 * the target answered. Requests for a client that nobody answers are what a reply routed
 * into a bridge looks like; an answered one means the client really is on that link.
 */
export class ArpLog {
  private readonly targets = new Map<number, TargetLog>();

  /** One ARP packet (op 1 request, 2 reply) with IPv4 sender and target addresses. */
  note(op: number, sender: number, target: number, t: number, iface: number): void {
    if (op === 1) this.request(sender, target, t, iface);
    else if (op === 2) {
      const s = this.targets.get(sender);
      if (s !== undefined) s.replies++;
    }
  }

  private request(sender: number, target: number, t: number, iface: number): void {
    let s = this.targets.get(target);
    if (s === undefined) {
      if (this.targets.size >= MAX_ARP_TARGETS) return;
      s = { requests: 0, replies: 0, interfaces: new Set(), askers: new Map(), lastAt: -1, lastIface: -1, lastSender: -1 };
      this.targets.set(target, s);
    }
    s.interfaces.add(iface);
    const copy = s.lastAt >= 0 && iface !== s.lastIface && sender === s.lastSender && Math.abs(t - s.lastAt) <= COPY_WINDOW_SECONDS;
    s.lastAt = t;
    s.lastIface = iface;
    s.lastSender = sender;
    if (copy) return;
    s.requests++;
    const n = s.askers.get(sender);
    if (n !== undefined) s.askers.set(sender, n + 1);
    else if (s.askers.size < MAX_ASKERS) s.askers.set(sender, 1);
  }

  /** Sightings by target address text; `names` maps interface ids to names. */
  sightings(names: readonly string[]): Map<string, ArpSighting> {
    const out = new Map<string, ArpSighting>();
    for (const [target, s] of this.targets) {
      if (s.requests === 0) continue;
      const text = ipv4ToString(target);
      out.set(text, {
        target: text,
        requests: s.requests,
        replies: s.replies,
        interfaces: [...s.interfaces].map((i) => names[i]!),
        askers: [...s.askers].sort((a, b) => b[1] - a[1]).map(([ip]) => ipv4ToString(ip)),
      });
    }
    return out;
  }
}
