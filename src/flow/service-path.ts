import type { Translation } from './attempt-path';

/** One hop of a service's path: the interface and the server as the attempt looked there. */
export interface ServiceHop {
  interface: string;
  /** "ip:port" at this hop. */
  server: string;
  /** How the hop's tuple differs from the outermost hop's. */
  translation: Translation;
}

/**
 * The hops that stitched attempts to one service took, outermost first: where the SYNs of
 * that service go next and how they are translated (eth0 192.0.2.1:8080 → docker0
 * 172.17.0.2:80, dnat). An attempt to the same service seen only at the first hop stopped
 * there.
 */
export interface ServicePath {
  hops: ServiceHop[];
  /** Attempts seen on exactly these hops. */
  attempts: number;
}

/** Distinct paths kept at most (one per service and hop list in practice). */
export const MAX_SERVICE_PATHS = 4096;

/** Collects the paths of stitched attempts, one entry per distinct hop list, counting attempts. */
export class ServicePaths {
  private readonly byKey = new Map<string, ServicePath>();
  /** Attempts not kept because MAX_SERVICE_PATHS distinct paths were reached. */
  notKept = 0;

  add(hops: readonly ServiceHop[]): void {
    if (hops.length < 2) return;
    const key = hops.map((h) => `${h.interface}|${h.server}|${h.translation}`).join(' ');
    const known = this.byKey.get(key);
    if (known !== undefined) known.attempts++;
    else if (this.byKey.size < MAX_SERVICE_PATHS) this.byKey.set(key, { hops: hops.map((h) => ({ ...h })), attempts: 1 });
    else this.notKept++;
  }

  /**
   * Adds a stitched attempt from its hops' interfaces (names), servers ("ip:port", null
   * when not remembered) and clients (IPv4 address * 65536 + port, -1 when unknown). An
   * attempt with a hop whose server is unknown is not added.
   */
  addStitched(interfaces: readonly string[], servers: readonly (string | null)[], clients: readonly number[]): void {
    if (servers.some((s) => s === null)) return;
    const outerServer = servers[0]!;
    const outerClient = clients[0]!;
    this.add(
      interfaces.map((name, i) => {
        const dnat = servers[i] !== outerServer;
        const snat = outerClient >= 0 && clients[i]! >= 0 && clients[i] !== outerClient;
        return { interface: name, server: servers[i]!, translation: dnat && snat ? 'dnat+snat' : dnat ? 'dnat' : snat ? 'snat' : 'none' };
      }),
    );
  }

  list(): ServicePath[] {
    return [...this.byKey.values()];
  }
}
