import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileSink, type ByteSink } from '../capture/byte-sink';
import { PcapngWriter } from '../capture/pcapng-writer';
import type { HostContext } from '../context/host-context';
import { writeHostContext } from '../context/write-context';
import { contextPathFor } from '../live/live-capture';

/** An interface as the ring's files describe it; one object per interface, reused for every packet. */
export interface RingInterface {
  name: string;
  linkType: number;
  description: string;
  snaplen: number;
}

export interface CaptureRingOptions {
  dir: string;
  /** Files kept: opening one more deletes the oldest (and its context), as dumpcap -b files:N. */
  files: number;
  /** A file is closed once it holds this many bytes, as dumpcap -b filesize. */
  bytesPerFile: number;
  /** File names are PREFIX_NNNNN_YYYYmmddHHMMSS.pcapng, dumpcap's pattern. */
  prefix: string;
}

/** Packets between checks of the clock for a flush, so the hot path reads it rarely. */
const FLUSH_CHECK_PACKETS = 1024;
/** A file reaches the disk at least this often, so a killed watch leaves all but the last moments. */
const FLUSH_INTERVAL_MS = 250;

/** Counts what goes through to the file, so the ring knows when a file is full. */
class CountingSink implements ByteSink {
  bytes = 0;
  constructor(private readonly inner: ByteSink) {}
  write(chunk: Uint8Array): void {
    this.inner.write(chunk);
    this.bytes += chunk.length;
  }
  flush(): void {
    this.inner.flush?.();
  }
  close(): void {
    this.inner.close();
  }
}

interface OpenFile {
  path: string;
  sink: CountingSink;
  writer: PcapngWriter;
  /** Interface → its IDB index in this file; an IDB is written the first time the file sees the interface. */
  ids: Map<RingInterface, number>;
}

/**
 * A ring of pcapng files, like `dumpcap -b filesize:S -b files:N`: packets go to the newest
 * file until it holds `bytesPerFile`, then to a new one, and only the last `files` are kept.
 * Each file gets FILE.context.json beside it when it closes: the host context of the last
 * window concluded (setContext), so `synscope analyze FILE` explains it later. Interfaces
 * are described in a file as they first appear in it, so a file spans a change of targets.
 */
export class CaptureRing {
  private current: OpenFile | null = null;
  /** Files of this ring still on disk, oldest first (the current one last). */
  private readonly kept: string[] = [];
  private sequence = 0;
  private context: HostContext | null = null;
  private sinceFlushCheck = 0;
  private flushedAt = Date.now();

  constructor(private readonly options: CaptureRingOptions) {
    fs.mkdirSync(options.dir, { recursive: true });
  }

  /** One packet, already cut as it should be kept (headers only). */
  write(iface: RingInterface, bytes: Uint8Array, tsSec: number, tsNsec: number, origLen: number): void {
    const file = this.current ?? this.open(tsSec);
    let id = file.ids.get(iface);
    if (id === undefined) {
      id = file.writer.addInterface({ linkType: iface.linkType, name: iface.name, description: iface.description, snaplen: iface.snaplen, tsResolution: 'ns' });
      file.ids.set(iface, id);
    }
    file.writer.writePacket(id, bytes, tsSec, tsNsec, origLen);
    if (file.sink.bytes >= this.options.bytesPerFile) this.closeCurrent();
    else if (++this.sinceFlushCheck >= FLUSH_CHECK_PACKETS) this.flushIfDue();
  }

  /** The host context written beside each file from now on. */
  setContext(context: HostContext): void {
    this.context = context;
  }

  /** Put what the current file holds on disk. */
  flush(): void {
    this.current?.writer.flush();
    this.flushedAt = Date.now();
  }

  /** The ring's files on disk now, oldest first. */
  files(): readonly string[] {
    return this.kept;
  }

  /** Close the current file (with its context). Safe to call twice. */
  close(): void {
    this.closeCurrent();
  }

  private flushIfDue(): void {
    this.sinceFlushCheck = 0;
    if (Date.now() - this.flushedAt >= FLUSH_INTERVAL_MS) this.flush();
  }

  private open(tsSec: number): OpenFile {
    const name = `${this.options.prefix}_${String(++this.sequence).padStart(5, '0')}_${stamp(tsSec)}.pcapng`;
    const file = path.join(this.options.dir, name);
    const sink = new CountingSink(new FileSink(file));
    this.current = { path: file, sink, writer: new PcapngWriter(sink), ids: new Map() };
    this.kept.push(file);
    while (this.kept.length > this.options.files) {
      const oldest = this.kept.shift()!;
      fs.rmSync(oldest, { force: true });
      fs.rmSync(contextPathFor(oldest), { force: true });
    }
    return this.current;
  }

  private closeCurrent(): void {
    const file = this.current;
    if (file === null) return;
    this.current = null;
    file.writer.close();
    if (this.context !== null) writeHostContext(contextPathFor(file.path), this.context);
  }
}

/** YYYYmmddHHMMSS in UTC, as dumpcap names its ring files (it uses local time). */
function stamp(tsSec: number): string {
  return new Date(tsSec * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
