/**
 * JS read + decode + FlowTracker vs JS read + NativeFlowTracker, counting only (no report).
 *
 *   node dist/bench/native-tracker.js MODE file.pcap [--max-live N] [--zeek-timers] [--batch N]
 *
 * MODE: read            read records only
 *       js              read + decodeFrame + FlowTracker.add (TCP, ICMP quoting TCP)
 *       native          read + NativeFlowTracker.addFrame for every record (C decodes and filters)
 *       native-decoded  read + decodeFrame + addFrame for the packets FlowTracker would get
 *                       (what DecodeStage would do: it decodes every packet for its other stages anyway)
 *       batch-only      read + addFrame for every record into a stub engine that tracks nothing:
 *                       the JS cost of batching (copying frames into the batch)
 * Every flow is counted in onFlowView (flows, packets, SYNs, SYN-ACKs, history letters), as
 * proto/js-flows.js --count does. Prints totals and, for native modes, the time spent in
 * the native calls (decode + track + copy out) and in handing the flows to onFlowView.
 */
import { openFiles, readRecords } from '../src/analysis/read';
import { decodeFrame } from '../src/decode/dispatch';
import { DecodedPacket, Transport } from '../src/decode/packet';
import type { FlowView } from '../src/flow/flow-view';
import { loadNativeTracker, NativeFlowTracker, type NativeTrackerAddon } from '../src/flow/native-tracker';
import { FlowTracker, type FlowTrackerOptions } from '../src/flow/tracker';

const args = process.argv.slice(2);
const mode = args[0];
let file: string | null = null;
const options: Partial<FlowTrackerOptions> = {};
let batch = 4096;
for (let i = 1; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--max-live') options.maxLiveFlows = Number(args[++i]);
  else if (a === '--zeek-timers') options.zeekTimers = true;
  else if (a === '--batch') batch = Number(args[++i]);
  else file = a;
}
if (file === null || !['read', 'js', 'native', 'native-decoded', 'batch-only'].includes(mode ?? '')) {
  console.error('usage: native-tracker.js read|js|native|native-decoded|batch-only file.pcap [--max-live N] [--zeek-timers] [--batch N]');
  process.exit(2);
}

let flows = 0;
let packets = 0;
let syns = 0;
let synAcks = 0;
let histLen = 0;
function onFlowView(v: FlowView): void {
  flows++;
  packets += v.origPackets + v.respPackets;
  syns += v.syns;
  synAcks += v.synAcks;
  histLen += v.history.length;
}

/** The addon with its calls timed. */
let nativeNs = 0n;
let drainNs = 0n;
let batches = 0;
function timedAddon(addon: NativeTrackerAddon): NativeTrackerAddon {
  return {
    ...addon,
    trackerAddBatch(...a: Parameters<NativeTrackerAddon['trackerAddBatch']>): number {
      batches++;
      const t0 = process.hrtime.bigint();
      const r = addon.trackerAddBatch(...a);
      const t1 = process.hrtime.bigint();
      nativeNs += t1 - t0;
      drainStart = t1;
      return r;
    },
    trackerFinish(engine: unknown): void {
      const t0 = process.hrtime.bigint();
      addon.trackerFinish(engine);
      const t1 = process.hrtime.bigint();
      nativeNs += t1 - t0;
      drainStart = t1;
    },
    trackerRelease(engine: unknown): void {
      addon.trackerRelease(engine);
      drainNs += process.hrtime.bigint() - drainStart;
    },
  };
}
let drainStart = 0n;

const start = process.hrtime.bigint();
const { readers } = openFiles([file]);
const pkt = new DecodedPacket();
let records = 0;
let tracked = 0;
if (mode === 'read') {
  readRecords(readers, () => {
    records++;
  });
} else if (mode === 'js') {
  const tracker = new FlowTracker({ ...options, onFlowView });
  readRecords(readers, (rec) => {
    records++;
    decodeFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, pkt);
    if (pkt.transport === Transport.TCP || (pkt.transport === Transport.ICMP && pkt.icmpQuotesTcp)) {
      tracked++;
      tracker.add(pkt, rec.data, rec.tsSec + rec.tsNsec * 1e-9, 0);
    }
  });
  tracker.finish();
} else {
  const l = loadNativeTracker();
  if ('reason' in l) {
    console.error(l.reason);
    process.exit(1);
  }
  let addon = l.addon;
  if (mode === 'batch-only') {
    const state = new Float64Array(8);
    addon = {
      trackerCreate: () => ({ engine: null, records: new ArrayBuffer(512), sideFlags: new Int32Array(1), state }),
      trackerAddBatch: (_e, _f, _o, _l, _k, _t, _i, _from, to) => to,
      trackerRelease: () => undefined,
      trackerFinish: () => undefined,
      trackerSide: () => ({}),
    };
  }
  const tracker = new NativeFlowTracker({ ...options, onFlowView, batchPackets: batch }, timedAddon(addon));
  if (mode === 'native' || mode === 'batch-only') {
    readRecords(readers, (rec) => {
      records++;
      tracker.addFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, rec.tsSec + rec.tsNsec * 1e-9, 0);
    });
  } else {
    readRecords(readers, (rec) => {
      records++;
      decodeFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, pkt);
      if (pkt.transport === Transport.TCP || (pkt.transport === Transport.ICMP && pkt.icmpQuotesTcp)) {
        tracked++;
        tracker.addFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, rec.tsSec + rec.tsNsec * 1e-9, 0);
      }
    });
  }
  tracker.finish();
}
for (const r of readers) r.close();
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const extra =
  mode === 'native' || mode === 'native-decoded' || mode === 'batch-only'
    ? ` native ${(Number(nativeNs) / 1e6).toFixed(0)} ms, onFlowView+side ${(Number(drainNs) / 1e6).toFixed(0)} ms, ${batches} batches`
    : '';
console.log(
  `${mode}: ${ms.toFixed(0)} ms; records ${records} tracked ${tracked} flows ${flows} packets ${packets} syns ${syns} synAcks ${synAcks} histLen ${histLen}${extra}`,
);
