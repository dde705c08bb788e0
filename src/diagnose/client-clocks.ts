import { estimateClocks, type TimestampSample } from './timestamp-clocks';

/** One client address whose SYNs show several TCP timestamp clocks: several hosts behind it. */
export interface ClientClocks {
  address: string;
  /** SYNs with a timestamp (first SYN of each attempt). */
  syns: number;
  /** Distinct clocks, i.e. hosts, at the rate that explains the SYNs with the fewest. */
  clocks: number;
  rateHz: number;
  /** Servers these attempts went to. */
  servers: number;
}

/** One client's timestamped SYNs, read only when there are enough of them to count clocks. */
export interface ClientSyns {
  address: string;
  count: number;
  /** clockCount() of its SYNs: most addresses are left out on it alone, before any SYN is read as an object. */
  clocks: number;
  read(): { samples: TimestampSample[]; servers: number };
}

/** Fewer timestamped attempts than this say nothing about how many hosts share an address. */
export const MIN_CLOCK_SYNS = 3;
/** The report lists at most this many addresses, most clocks first. */
const MAX_LISTED = 50;

/**
 * Whether a client with `count` timestamped SYNs whose clockCount is `clocks` goes on to the
 * full estimate. Most addresses show one clock, or one per SYN: counted cheaply, they are
 * left out before any SYN is read.
 */
export function mayShowHosts(count: number, clocks: number): boolean {
  return count >= MIN_CLOCK_SYNS && clocks >= 2 && clocks < count;
}

/**
 * For each client address, how many TCP timestamp clocks its SYNs show (hosts behind one
 * NAT address, swarm ingress or a load balancer). Addresses whose clocks look randomized
 * per connection (Linux 4.10+ clients: every SYN its own clock) are left out: their count
 * says nothing about hosts.
 */
export function clientClocks(clients: Iterable<ClientSyns>): ClientClocks[] {
  const out: ClientClocks[] = [];
  for (const client of clients) {
    if (!mayShowHosts(client.count, client.clocks)) continue;
    const { address } = client;
    const { samples, servers } = client.read();
    const estimate = estimateClocks([...samples].sort((a, b) => a.at - b.at));
    // A clock seen in only one SYN each is also what per-connection random offsets look like
    // with few samples: only a clock that ticks through several SYNs makes the count mean hosts.
    if (estimate.randomized || estimate.clocks < 2 || estimate.clocks >= samples.length || estimate.rateHz === null) continue;
    out.push({ address, syns: samples.length, clocks: estimate.clocks, rateHz: estimate.rateHz, servers });
  }
  return out.sort((a, b) => b.clocks - a.clocks || b.syns - a.syns).slice(0, MAX_LISTED);
}
