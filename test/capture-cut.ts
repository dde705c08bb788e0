import * as path from 'node:path';
import { FileSink } from '../src/capture/byte-sink';
import { openCaptureFile } from '../src/capture/open';
import { PcapWriter } from '../src/capture/pcap-writer';

/**
 * A stored capture as one tcpdump per interface would have written it: one classic pcap per
 * interface in `dir` (capture1.pcap, capture2.pcap... in the order the interfaces first
 * carried a packet), none naming its interface; with `until`, only the packets captured
 * before that time (Unix seconds), as if the capture had been stopped then.
 */
export function perInterfaceFiles(capture: string, dir: string, until = Infinity): string[] {
  const reader = openCaptureFile(capture);
  const writers = new Map<number, { sink: FileSink; writer: PcapWriter }>();
  try {
    for (const rec of reader) {
      if (rec.tsSec + rec.tsNsec * 1e-9 >= until) continue;
      let w = writers.get(rec.interfaceIndex);
      if (w === undefined) {
        const sink = new FileSink(path.join(dir, `capture${writers.size + 1}.pcap`));
        w = { sink, writer: new PcapWriter(sink, { linkType: rec.linkType, nanosecond: true }) };
        writers.set(rec.interfaceIndex, w);
      }
      w.writer.writePacket(rec.data.subarray(rec.offset, rec.offset + rec.caplen), rec.tsSec, rec.tsNsec, rec.origLen);
    }
  } finally {
    reader.close();
    for (const { sink } of writers.values()) sink.close();
  }
  return [...writers.keys()].map((_, i) => path.join(dir, `capture${i + 1}.pcap`));
}
