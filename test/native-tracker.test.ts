import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openFiles, readRecords } from '../src/analysis/read';
import { InterfaceRegistry } from '../src/capture/interface-registry';
import { decodeFrame } from '../src/decode/dispatch';
import { DecodedPacket, Transport } from '../src/decode/packet';
import type { FlowView } from '../src/flow/flow-view';
import { loadNativeTracker, NativeFlowTracker } from '../src/flow/native-tracker';
import { FlowTracker, type FlowTrackerOptions } from '../src/flow/tracker';
import { writeFloodCapture } from '../bench/flood-capture';
import { tempDir } from './temp-dir';

const REPO = path.resolve(__dirname, '..', '..');

function captureFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(pcap|pcapng|cap)(\.gz)?$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** Every field a consumer of the view reads, and the whole Flow (history, state, outcome, rejection, interfaces...). */
function describe(v: FlowView): string {
  const f = v.toFlow();
  return JSON.stringify([
    v.ordinal,
    v.id,
    v.ipVersion,
    v.outcome,
    v.syns,
    v.synAcks,
    v.origPackets,
    v.respPackets,
    v.clientIpv4,
    v.serverIpv4,
    v.clientPort,
    v.serverPort,
    v.serverEndpoint,
    v.firstSynAt,
    v.firstSynAckAt,
    v.lastSeen,
    v.synTsVal,
    v.synIsn,
    v.synMssRaw,
    v.synWindowScaleRaw,
    v.synSackRaw,
    v.synIpIdRaw,
    v.firstInterface,
    v.history,
    v.serverClosedFirst,
    f,
  ]);
}

interface Run {
  flows: string[];
  pressure: string;
  multiInterface: number;
  icmp: number;
  spilled: number;
}

/** Reads `file` once and feeds each packet DecodeStage would hand the tracker to both trackers. */
function runBoth(file: string, options: Partial<FlowTrackerOptions>, batchPackets: number): { js: Run; c: Run } {
  const js: Run = { flows: [], pressure: '', multiInterface: 0, icmp: 0, spilled: 0 };
  const c: Run = { flows: [], pressure: '', multiInterface: 0, icmp: 0, spilled: 0 };
  const note = (run: Run) => (v: FlowView) => {
    const d = describe(v);
    run.flows.push(d);
    const f = v.toFlow();
    if (f.interfaces.length > 1) run.multiInterface++;
    if (f.rejection?.by === 'icmp') run.icmp++;
    if (f.history.length > 24) run.spilled++;
  };
  const jsTracker = new FlowTracker({ ...options, onFlowView: note(js) });
  const cTracker = new NativeFlowTracker({ ...options, onFlowView: note(c), batchPackets });
  let readers;
  try {
    readers = openFiles([file]).readers;
  } catch {
    return { js, c }; // a fixture the reader refuses: nothing to compare
  }
  const pkt = new DecodedPacket();
  const interfaces = new InterfaceRegistry(readers);
  // The C tracker holds frames by reference until a flush: flush before a reader reuses its buffer.
  const lastBuffer = readers.map((): Buffer | null => null);
  try {
    readRecords(readers, (rec, readerIndex) => {
      if (rec.data !== lastBuffer[readerIndex]) {
        cTracker.sync();
        lastBuffer[readerIndex] = rec.data;
      }
      decodeFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, pkt);
      const iface = interfaces.id(readerIndex, rec.interfaceIndex, pkt.sllIfIndex);
      const time = rec.tsSec + rec.tsNsec * 1e-9;
      if (pkt.transport === Transport.TCP || (pkt.transport === Transport.ICMP && pkt.icmpQuotesTcp)) {
        jsTracker.add(pkt, rec.data, time, iface);
        cTracker.addFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, time, iface);
      }
    });
  } catch {
    // a malformed record stops both readers at the same packet
  } finally {
    for (const r of readers) r.close();
  }
  jsTracker.finish();
  cTracker.finish();
  js.pressure = JSON.stringify(jsTracker.pressure);
  c.pressure = JSON.stringify(cTracker.pressure);
  return { js, c };
}

const native = loadNativeTracker();
if ('reason' in native) throw new Error(`${native.reason}: these tests need the built addon (npm run build:native)`);

/** Stored captures, plus two generated fuzz captures (made by a script on the native-tracker-prototype branch: long spilled histories, flag mixes, encapsulations, ICMP errors). */
const FILES = [
  ...captureFiles(path.join(REPO, 'captures')),
  ...captureFiles(path.join(REPO, 'test', 'fixtures')),
  ...captureFiles(path.join(REPO, 'test', 'native-tracker')),
];

const CONFIGS: { name: string; options: Partial<FlowTrackerOptions>; batch: number }[] = [
  { name: 'defaults', options: {}, batch: 4096 },
  { name: 'zeekTimers, batch 7', options: { zeekTimers: true }, batch: 7 },
  { name: 'maxLiveFlows 3, batch 1', options: { maxLiveFlows: 3 }, batch: 1 },
  { name: 'maxLiveFlows 20, closeDelay 1, attemptIdle 2, idle 30', options: { maxLiveFlows: 20, closeDelay: 1, attemptIdleTimeout: 2, idleTimeout: 30 }, batch: 64 },
];

for (const config of CONFIGS) {
  test(`NativeFlowTracker emits the same flows as FlowTracker, in order (${config.name})`, () => {
    assert.ok(FILES.length > 50, `found ${FILES.length} captures`);
    let flows = 0;
    let multiInterface = 0;
    let icmp = 0;
    let spilled = 0;
    let endedEarly = 0;
    const differ: string[] = [];
    for (const file of FILES) {
      const { js, c } = runBoth(file, config.options, config.batch);
      flows += js.flows.length;
      multiInterface += js.multiInterface;
      icmp += js.icmp;
      spilled += js.spilled;
      endedEarly += JSON.parse(js.pressure || '{"endedEarly":0}').endedEarly;
      if (js.pressure !== c.pressure || js.flows.length !== c.flows.length || js.flows.some((f, i) => f !== c.flows[i])) {
        const i = js.flows.findIndex((f, k) => f !== c.flows[k]);
        differ.push(`${path.relative(REPO, file)}: ${js.flows.length} vs ${c.flows.length} flows, pressure ${js.pressure} vs ${c.pressure}, first difference at ${i}:\n  js ${js.flows[i]}\n  c  ${c.flows[i]}`);
      }
    }
    console.log(`# ${config.name}: ${FILES.length} files, ${flows} flows, ${multiInterface} on several interfaces, ${icmp} rejected by ICMP, ${spilled} with spilled histories, ${endedEarly} ended early`);
    assert.deepEqual(differ, []);
    assert.ok(flows > 100);
    assert.ok(multiInterface > 0, 'some flows on several interfaces');
    assert.ok(icmp > 0, 'some flows answered by ICMP');
    assert.ok(spilled > 0, 'some histories past the 24 inline letters');
  });
}

test('loadNativeTracker says in one line why it is unavailable, or loads', () => {
  const l = loadNativeTracker();
  if ('reason' in l) assert.ok(!l.reason.includes('\n'));
  else assert.equal(typeof l.addon.trackerCreate, 'function');
});


test('a flood that ends more flows per batch than an output area holds: the same flows, in order, while batches overlap', () => {
  const dir = tempDir('synscope-native-flood-');
  const file = path.join(dir, 'flood.pcap');
  // Every SYN from a new source with room for 100 live flows: each one ends another early,
  // so a batch of 4096 frames ends 4096 flows and its area (2048 waiting at most) fills twice.
  writeFloodCapture({ syns: 30000, out: file, spoofed: true, answered: true });
  const { js, c } = runBoth(file, { maxLiveFlows: 100 }, 4096);
  assert.ok(js.flows.length >= 30000, `${js.flows.length} flows`);
  assert.ok(JSON.parse(js.pressure).endedEarly > 20000, js.pressure);
  assert.equal(c.pressure, js.pressure);
  assert.equal(c.flows.length, js.flows.length);
  assert.ok(c.flows.every((f, i) => f === js.flows[i]), 'same flows in the same order');
  // With room for all of them, the 30,000 attempts are still live at the end: finish hands them
  // out 2048 at a time.
  const all = runBoth(file, {}, 4096);
  assert.equal(JSON.parse(all.js.pressure).endedEarly, 0);
  assert.ok(all.js.flows.length >= 30000);
  assert.equal(all.c.flows.length, all.js.flows.length);
  assert.ok(all.c.flows.every((f, i) => f === all.js.flows[i]), 'same flows in the same order at finish');
});
