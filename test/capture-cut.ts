import * as path from 'node:path';
import { FileSink } from '../src/capture/byte-sink';
import { openCaptureFile } from '../src/capture/open';
import { PcapWriter } from '../src/capture/pcap-writer';
import type { HostContext } from '../src/context/host-context';

/**
 * A stored capture as one tcpdump per interface would have written it: one classic pcap per
 * interface in `dir` (capture1.pcap, capture2.pcap... in the order the interfaces first
 * carried a packet), none naming its interface; with `until`, only the packets captured
 * before that time (Unix seconds), as if the capture had been stopped then; with `startedAt`,
 * file i only from startedAt[i] on, as if that tcpdump had been started later.
 */
export function perInterfaceFiles(capture: string, dir: string, until = Infinity, startedAt: readonly number[] = []): string[] {
  const reader = openCaptureFile(capture);
  const writers = new Map<number, { sink: FileSink; writer: PcapWriter; index: number }>();
  try {
    for (const rec of reader) {
      if (rec.tsSec + rec.tsNsec * 1e-9 >= until) continue;
      let w = writers.get(rec.interfaceIndex);
      if (w === undefined) {
        const sink = new FileSink(path.join(dir, `capture${writers.size + 1}.pcap`));
        w = { sink, writer: new PcapWriter(sink, { linkType: rec.linkType, nanosecond: true }), index: writers.size };
        writers.set(rec.interfaceIndex, w);
      }
      if (rec.tsSec + rec.tsNsec * 1e-9 < (startedAt[w.index] ?? -Infinity)) continue;
      w.writer.writePacket(rec.data.subarray(rec.offset, rec.offset + rec.caplen), rec.tsSec, rec.tsNsec, rec.origLen);
    }
  } finally {
    reader.close();
    for (const { sink } of writers.values()) sink.close();
  }
  return [...writers.keys()].map((_, i) => path.join(dir, `capture${i + 1}.pcap`));
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL2 = 276;
const ARPHRD_ETHER = 1;
const enum PacketType {
  HOST = 0,
  BROADCAST = 1,
  MULTICAST = 2,
  OTHERHOST = 3,
  OUTGOING = 4,
}

/**
 * A stored capture as `tcpdump -i any` would have written it: one classic pcap of Linux
 * cooked v2 records, each carrying the ifindex of the interface it was captured on (from the
 * host context, which holds the capture's interfaces), its packet type as the kernel gives it
 * (outgoing when the interface's own MAC sent it) and its sender's MAC; the destination MAC is
 * gone, as in the real thing. Ethernet records only: returns null when the capture holds none.
 */
export function anyDeviceFile(capture: string, context: HostContext, file: string): string | null {
  const byName = new Map(context.interfaces.map((i) => [i.name, i]));
  const reader = openCaptureFile(capture);
  const sink = new FileSink(file);
  const writer = new PcapWriter(sink, { linkType: LINKTYPE_LINUX_SLL2, nanosecond: true });
  let written = 0;
  try {
    for (const rec of reader) {
      const iface = byName.get(reader.interfaces[rec.interfaceIndex]?.name ?? '');
      if (iface === undefined || rec.linkType !== LINKTYPE_ETHERNET || rec.caplen < 14) continue;
      const frame = rec.data.subarray(rec.offset, rec.offset + rec.caplen);
      const own = Buffer.from((iface.mac ?? '').replace(/:/g, ''), 'hex');
      const type = frame.subarray(6, 12).equals(own)
        ? PacketType.OUTGOING
        : frame.subarray(0, 6).equals(own)
          ? PacketType.HOST
          : frame.subarray(0, 6).every((b) => b === 0xff)
            ? PacketType.BROADCAST
            : (frame[0]! & 1) !== 0
              ? PacketType.MULTICAST
              : PacketType.OTHERHOST;
      const header = Buffer.alloc(20);
      header.writeUInt16BE(frame.readUInt16BE(12), 0);
      header.writeUInt32BE(iface.index, 4);
      header.writeUInt16BE(ARPHRD_ETHER, 8);
      header[10] = type;
      header[11] = 6;
      frame.copy(header, 12, 6, 12);
      writer.writePacket(Buffer.concat([header, frame.subarray(14)]), rec.tsSec, rec.tsNsec, rec.origLen - 14 + header.length);
      written++;
    }
  } finally {
    reader.close();
    sink.close();
  }
  return written > 0 ? file : null;
}

/**
 * A stored capture as a rotating tcpdump per interface writes it (`tcpdump -i eth0 -C 100 -W 5
 * -w eth0.pcap`): each interface's packets before `at` (Unix seconds) in NAME.pcap0, the rest in
 * NAME.pcap1, classic pcaps that do not name their interface.
 */
export function ringFiles(capture: string, dir: string, at: number): string[] {
  const reader = openCaptureFile(capture);
  const writers = new Map<string, { sink: FileSink; writer: PcapWriter }>();
  try {
    for (const rec of reader) {
      const name = (reader.interfaces[rec.interfaceIndex]?.name ?? `if${rec.interfaceIndex}`).replace(/[^A-Za-z0-9_-]/g, '_');
      const file = path.join(dir, `${name}.pcap${rec.tsSec + rec.tsNsec * 1e-9 < at ? 0 : 1}`);
      let w = writers.get(file);
      if (w === undefined) {
        const sink = new FileSink(file);
        w = { sink, writer: new PcapWriter(sink, { linkType: rec.linkType, nanosecond: true }) };
        writers.set(file, w);
      }
      w.writer.writePacket(rec.data.subarray(rec.offset, rec.offset + rec.caplen), rec.tsSec, rec.tsNsec, rec.origLen);
    }
  } finally {
    reader.close();
    for (const { sink } of writers.values()) sink.close();
  }
  return [...writers.keys()];
}
