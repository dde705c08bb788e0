import * as path from 'node:path';
import type { CaptureSource } from './record';

/** Names an any-device capture's interface by its ifindex when nothing better is known. */
export function ifindexPlaceholder(ifindex: number): string {
  return `if${ifindex}`;
}

/** Outgoing source MACs kept per any-device interface (a real interface sends with one or two). */
const MAX_OUTGOING_MACS = 4;

/**
 * The interfaces of one analysis, as small ids. A file's interface (a pcapng IDB, a classic
 * pcap) is one interface named by the file; interfaces of the same name in several files
 * are one. A Linux cooked v2 record (`tcpdump -i any`) carries the ifindex of the interface
 * it crossed: when its file names no real interface (a classic pcap, or one IDB "any"),
 * each ifindex is an interface of its own, named only at the end (resolveIfindexNames),
 * once the analysis knows whether a host context matching the capture tells the names.
 * Files of one host share ifindexes, so the same ifindex in two files is one interface.
 */
export class InterfaceRegistry {
  /** Interface id → name (ifindex interfaces hold their placeholder until resolved). */
  readonly names: string[] = [];
  private readonly byName = new Map<string, number>();
  /** Per reader and local interface: its id, or -1 when its records are keyed by ifindex. */
  private readonly local: number[][];
  private readonly byIfindex = new Map<number, number>();
  /** Interface id → ifindex, for interfaces known by ifindex only. */
  private readonly ifindexOfId = new Map<number, number>();
  /** Per reader: ids of the ifindex interfaces its records showed. */
  private readonly ifindexIdsOfReader: Set<number>[];
  /** Per ifindex: source MACs (48-bit numbers) of the packets the host sent on it. */
  private readonly outgoing = new Map<number, number[]>();
  /** Interfaces named after their file (the file states no name): id → the file, with the interface's number in a pcapng. */
  private readonly fileNamed = new Map<number, string>();
  /** Files named after the same stem (a rotating tcpdump's): their interface, the readers in it, and whether two of them overlapped in time. */
  private readonly rings = new Map<string, { id: number; readers: number[]; overlapped: boolean }>();
  /** Readers that have handed out their last record. */
  private readonly ended = new Set<number>();

  constructor(private readonly readers: readonly CaptureSource[]) {
    this.local = readers.map(() => []);
    this.ifindexIdsOfReader = readers.map(() => new Set());
  }

  /** Interface id of a record; `ifindex` is the record's SLL2 ifindex, or -1. */
  id(readerIndex: number, local: number, ifindex: number): number {
    const known = this.local[readerIndex]![local];
    if (known !== undefined && known >= 0) return known;
    if (known === undefined) {
      const stated = this.readers[readerIndex]!.interfaces[local]?.name ?? null;
      if (ifindex < 0 || (stated !== null && stated !== 'any')) {
        const id = stated !== null ? this.named(stated) : this.fileNamedId(readerIndex, local);
        if (stated === null) this.fileNamed.set(id, fileOf(this.readers[readerIndex]!, local));
        this.local[readerIndex]![local] = id;
        return id;
      }
      this.local[readerIndex]![local] = -1;
    }
    // A cooked v2 record cut before its ifindex keeps the file's own name.
    if (ifindex < 0) return this.named(this.readers[readerIndex]!.interfaces[local]?.name ?? fileInterfaceName(this.readers[readerIndex]!, local));
    let id = this.byIfindex.get(ifindex);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(ifindexPlaceholder(ifindex));
      this.byIfindex.set(ifindex, id);
      this.ifindexOfId.set(id, ifindex);
    }
    this.ifindexIdsOfReader[readerIndex]!.add(id);
    return id;
  }

  /** A packet the host sent on `ifindex` (SLL2 packet type "outgoing") with source MAC `mac`. */
  noteOutgoing(ifindex: number, mac: number): void {
    const macs = this.outgoing.get(ifindex);
    if (macs === undefined) this.outgoing.set(ifindex, [mac]);
    else if (macs.length < MAX_OUTGOING_MACS && !macs.includes(mac)) macs.push(mac);
  }

  /** Source MACs of outgoing packets per ifindex. */
  outgoingMacs(): Map<number, number[]> {
    return this.outgoing;
  }

  /** The ifindexes records were keyed by, in first-seen order. */
  ifindexes(): number[] {
    return [...this.byIfindex.keys()];
  }

  /** Whether any record was keyed by ifindex. */
  get hasIfindexInterfaces(): boolean {
    return this.byIfindex.size > 0;
  }

  /**
   * Names every ifindex interface from `names` (ifindex → name, from a host context that
   * matches the capture); the ones it does not know keep their placeholder. Returns them.
   */
  resolveIfindexNames(names: ReadonlyMap<number, string> | null): number[] {
    const unnamed: number[] = [];
    for (const [ifindex, id] of this.byIfindex) {
      const name = names?.get(ifindex);
      if (name === undefined) unnamed.push(ifindex);
      this.names[id] = name ?? ifindexPlaceholder(ifindex);
    }
    return unnamed;
  }

  /**
   * Renames the interfaces named after their files that `rename` knows by another name (from
   * a host context: see interfaceByMacs). Returns what was renamed.
   */
  resolveFileNames(rename: (name: string) => string | null): { file: string; name: string }[] {
    const renamed: { file: string; name: string }[] = [];
    for (const [id, file] of this.fileNamed) {
      const name = rename(this.names[id]!);
      if (name === null || name === this.names[id]) continue;
      this.names[id] = name;
      renamed.push({ file, name });
    }
    return renamed;
  }

  /** The interface names of one input: its files' interfaces, or the ifindex interfaces its records showed. */
  inputInterfaces(readerIndex: number): string[] {
    const reader = this.readers[readerIndex]!;
    const ids = this.ifindexIdsOfReader[readerIndex]!;
    const out: string[] = [];
    for (const [local, i] of reader.interfaces.entries()) {
      const id = this.local[readerIndex]![local];
      if (id !== -1) out.push(i.name ?? (id === undefined ? fileInterfaceName(reader, local) : this.names[id]!));
    }
    for (const id of [...ids].sort((a, b) => this.ifindexOfId.get(a)! - this.ifindexOfId.get(b)!)) out.push(this.names[id]!);
    return out;
  }

  /** Whether the reader's local interface is keyed by ifindex (an any-device capture). */
  isAnyDevice(readerIndex: number, local: number): boolean {
    return this.local[readerIndex]![local] === -1;
  }

  /**
   * The interface of a file that names none, after the file. The files of a rotating tcpdump
   * (eth0.pcap0, eth0.pcap1...) are one interface, eth0: a file joins the interface of the
   * earlier files of its name only when they have all ended (records are read in time order),
   * since files of one name that overlap in time (a loop writing capture.pcap1, capture.pcap2,
   * one per interface) are several interfaces, each then named after its whole file.
   */
  private fileNamedId(readerIndex: number, local: number): number {
    const reader = this.readers[readerIndex]!;
    const stem = fileInterfaceName(reader, local);
    const whole = fileInterfaceName(reader, local, false);
    if (stem === whole) return this.named(stem);
    const ring = this.rings.get(stem);
    if (ring === undefined) {
      const id = this.named(stem);
      this.rings.set(stem, { id, readers: [readerIndex], overlapped: false });
      return id;
    }
    if (!ring.overlapped && ring.readers.every((r) => this.ended.has(r))) {
      ring.readers.push(readerIndex);
      return ring.id;
    }
    if (!ring.overlapped) {
      ring.overlapped = true;
      const first = fileInterfaceName(this.readers[ring.readers[0]!]!, local, false);
      this.byName.delete(stem);
      this.names[ring.id] = first;
      this.byName.set(first, ring.id);
    }
    return this.named(whole);
  }

  /** The reader has handed out its last record. */
  readerEnded(readerIndex: number): void {
    this.ended.add(readerIndex);
  }

  private named(name: string): number {
    let id = this.byName.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.byName.set(name, id);
    }
    return id;
  }
}

/** The file an interface was read from, for messages: the path, and the interface's number in a pcapng. */
function fileOf(reader: CaptureSource, local: number): string {
  return reader.format === 'pcap' ? reader.source : `${reader.source} (interface ${local})`;
}

/**
 * A file that does not name its interface is named after the file: "docker0.pcap" was
 * most likely taken on docker0, which is what the bridge rules compare against.
 */
export function fileInterfaceName(reader: CaptureSource, local: number, ringStem = true): string {
  // tcpdump -C/-W writes one interface's ring as trace.pcap, trace.pcap1, trace.pcap2 (or trace.pcap0...).
  const base = path.basename(reader.source).replace(ringStem ? /\.(pcapng|pcap|cap|dmp)\d*(\.gz)?$/i : /\.(pcapng|pcap|cap|dmp)(\.gz)?$/i, '');
  return reader.format === 'pcap' ? base : `${base}#${local}`;
}
