import { formatEndpoint } from '../decode/address';
import type { AttemptOutcome, Flow } from './flow';

/** How a hop's tuple differs from the outermost hop's: the server side rewritten (DNAT), the client side (SNAT, masquerade), or both. */
export type Translation = 'none' | 'dnat' | 'snat' | 'dnat+snat';

/** One hop of a stitched attempt: the flow one interface saw. */
export interface Hop {
  /** Flow id of this hop's flow. */
  flow: string;
  interface: string;
  /** "ip:port" as this hop saw it. */
  client: string;
  server: string;
  translation: Translation;
  /** SYN-ACKs seen at this hop. */
  synAcks: number;
  /** What carried the packets at this hop when it was a tunnel: "vxlan 4096 192.0.2.1 > 192.0.2.2" (VNI, the SYN's outer source and destination). */
  via?: string;
}

/** One connection attempt seen at several hops, outermost (the client's side) first. */
export interface AttemptPath {
  /** The attempt's id: the id of its outermost flow. */
  id: string;
  /** The outcome as the client saw it (the outermost hop's). */
  outcome: AttemptOutcome;
  hops: Hop[];
  /** Interface of the innermost hop that saw the SYN, and of the outermost hop that saw a SYN-ACK (null: none did). */
  reached: { syn: string; synAck: string | null };
  /** Flow ids of all hops, outermost first. */
  flows: string[];
}

/**
 * The path of one attempt from its hops' flows, in hop order (outermost first);
 * `interfaces` gives each hop's interface name.
 */
export function attemptPath(flows: readonly Flow[], interfaces: readonly string[]): AttemptPath {
  const outer = flows[0]!;
  const hops = flows.map((f, i): Hop => ({
    flow: f.id,
    interface: interfaces[i]!,
    client: formatEndpoint(f.clientIp, f.clientPort, f.ipVersion),
    server: formatEndpoint(f.serverIp, f.serverPort, f.ipVersion),
    translation: translation(outer, f),
    synAcks: f.synAcks,
  }));
  const answered = hops.find((h) => h.synAcks > 0);
  return {
    id: outer.id,
    outcome: outer.outcome ?? 'unanswered',
    hops,
    reached: { syn: hops[hops.length - 1]!.interface, synAck: answered?.interface ?? null },
    flows: flows.map((f) => f.id),
  };
}

/** The translation between the outermost hop's tuple and another hop's. */
export function translation(outer: Flow, hop: Flow): Translation {
  const dnat = outer.serverIp !== hop.serverIp || outer.serverPort !== hop.serverPort;
  const snat = outer.clientIp !== hop.clientIp || outer.clientPort !== hop.clientPort;
  return dnat && snat ? 'dnat+snat' : dnat ? 'dnat' : snat ? 'snat' : 'none';
}
