import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { FileSink } from '../src/capture/byte-sink';
import { PcapWriter } from '../src/capture/pcap-writer';
import { homeSlot, MacSightings } from '../src/evidence/mac-sightings';
import { buildTcpFrame } from '../src/synth/frames';
import { tempDir } from './temp-dir';

test('MacSightings: one MAC per pair is counted; a second MAC on the same pair is kept with both counts', () => {
  const m = new MacSightings(4);
  m.note(10, 0xaa);
  m.note(10, 0xaa);
  m.note(11, 0xbb);
  m.note(10, 0xcc);
  const byKey = new Map([...m.entries()].map(([k, macs]) => [k, macs]));
  assert.deepEqual(byKey.get(10), [[0xaa, 2], [0xcc, 1]]);
  assert.deepEqual(byKey.get(11), [[0xbb, 1]]);
  assert.equal(byKey.size, 2);
});

test('MacSightings stays bounded: past 3/4 of its capacity new pairs are ignored, known ones still count', () => {
  const m = new MacSightings(4); // 16 slots, 12 pairs at most
  for (let k = 0; k < 100; k++) m.note(k * 65536 + 3, 1);
  m.note(0 * 65536 + 3, 2);
  const entries = [...m.entries()];
  assert.equal(entries.length, 12);
  assert.deepEqual(entries.find(([k]) => k === 3)?.[1], [[1, 1], [2, 1]]);
});

test('analyze: one Docker-range address answering from two MACs on one link is an address collision', () => {
  const dir = tempDir('synscope-macs-');
  const file = path.join(dir, 'eth0.pcap');
  const w = new PcapWriter(new FileSink(file), { linkType: 1 });
  const t = 1_700_000_000;
  const syn = (srcMac: string, srcPort: number) =>
    buildTcpFrame({ srcMac, src: '172.17.0.5', srcPort, dst: '10.0.0.1', dstPort: 6379, seq: srcPort * 1000, ack: 0, flags: 0x02 });
  w.writePacket(syn('02:42:ac:11:00:05', 40001), t, 0);
  w.writePacket(syn('02:42:ac:11:00:05', 40002), t + 1, 0);
  w.writePacket(syn('02:42:0a:0b:0c:0d', 40003), t + 2, 0);
  w.close();
  const a = analyzeFiles([file]);
  const shared = a.findings.filter((f) => f.code === 'address-collision' && f.evidence['address'] === '172.17.0.5');
  assert.equal(shared.length, 1, JSON.stringify(a.findings.map((f) => [f.code, f.title])));
  assert.deepEqual(
    (shared[0]!.evidence['macs'] as { mac: string; packets: number }[]).map((x) => `${x.mac} ${x.packets}`).sort(),
    ['02:42:0a:0b:0c:0d 1', '02:42:ac:11:00:05 2'],
  );
});

test('MacSightings: clients of one /16 on one interface spread over the table (no probe clusters)', () => {
  // Keys as the analysis builds them: IPv4 address * 2^16 + interface id, here 10.98.0.0/16 on interface 0.
  const shift = 32 - 17;
  const slots = new Set<number>();
  for (let host = 0; host < 4096; host++) slots.add(homeSlot((0x0a620000 + host) * 65536, shift));
  // A uniform hash puts 4096 keys into about 4032 distinct slots of 131072; the old low-bit hash used 2.
  assert.ok(slots.size > 3900, `${slots.size} distinct home slots for 4096 keys`);
});
