import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { FileSink } from '../src/capture/byte-sink';
import { openCaptureFile } from '../src/capture/open';
import { PcapWriter } from '../src/capture/pcap-writer';
import { parseBridgeFlag } from '../src/context/bridge';
import { REPO } from './cli-harness';
import { tempDir } from './temp-dir';

const OVERLAP = path.join(REPO, 'captures', 'docker0-overlap', 'capture.pcapng');

/** Split a multi-interface pcapng into one classic pcap per interface, named after it. */
function splitByInterface(file: string, dir: string): string[] {
  const reader = openCaptureFile(file);
  const writers = new Map<number, PcapWriter>();
  for (let rec = reader.next(); rec !== null; rec = reader.next()) {
    let w = writers.get(rec.interfaceIndex);
    if (w === undefined) {
      const name = reader.interfaces[rec.interfaceIndex]!.name!;
      w = new PcapWriter(new FileSink(path.join(dir, `${name}.pcap`)), { linkType: rec.linkType, nanosecond: true });
      writers.set(rec.interfaceIndex, w);
    }
    w.writePacket(rec.data.subarray(rec.offset, rec.offset + rec.caplen), rec.tsSec, rec.tsNsec, rec.origLen);
  }
  reader.close();
  for (const w of writers.values()) w.close();
  return reader.interfaces.map((i) => path.join(dir, `${i.name}.pcap`));
}

test('one capture per interface, merged by time, gives the same verdict as the two-interface pcapng', () => {
  const dir = tempDir('synscope-split-');
  const files = splitByInterface(OVERLAP, dir);
  assert.deepEqual(files.map((f) => path.basename(f)).sort(), ['docker0.pcap', 'eth0.pcap']);
  const bridges = [parseBridgeFlag('docker0=172.17.0.0/16')];
  const whole = analyzeFiles([OVERLAP], { bridges, allFlows: true });
  const split = analyzeFiles(files, { bridges, allFlows: true });
  assert.deepEqual(split.summary.handshakes, whole.summary.handshakes);
  assert.equal(split.summary.packets, whole.summary.packets);
  assert.deepEqual(split.interfaceNames.sort(), ['docker0', 'eth0']);
  assert.deepEqual(
    split.flows.map((f) => [f.clientIp, f.clientPort, f.state, f.history, f.syns]),
    whole.flows.map((f) => [f.clientIp, f.clientPort, f.state, f.history, f.syns]),
  );
  const overlap = split.findings.find((f) => f.code === 'bridge-subnet-overlap');
  assert.ok(overlap, 'the overlap is found from the split files');
  assert.equal(overlap.confidence, 'high', 'ARP on docker0.pcap counts as seen on docker0');
  assert.deepEqual(overlap.evidence['clients'], ['172.17.0.50']);
});
