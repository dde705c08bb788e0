#!/usr/bin/env node
'use strict';
/*
 * FlowTracker vs NativeFlowTracker (the addon path: batches, output area, side data) on
 * captures, under several option sets: every flow's toFlow() and view fields, in order.
 *   node proto/fuzz-native.js file.pcap...   (after npx tsc and the addon build)
 */
const DIST = `${__dirname}/../dist`;
const { openFiles, readRecords } = require(`${DIST}/src/analysis/read.js`);
const { InterfaceRegistry } = require(`${DIST}/src/capture/interface-registry.js`);
const { decodeFrame } = require(`${DIST}/src/decode/dispatch.js`);
const { DecodedPacket, Transport } = require(`${DIST}/src/decode/packet.js`);
const { FlowTracker } = require(`${DIST}/src/flow/tracker.js`);
const { NativeFlowTracker } = require(`${DIST}/src/flow/native-tracker.js`);

const CONFIGS = [
  [{}, 4096],
  [{ maxLiveFlows: 20 }, 100],
  [{ zeekTimers: true }, 1000],
  [{ maxLiveFlows: 5, closeDelay: 0.5, attemptIdleTimeout: 3, idleTimeout: 20, likelyServerPorts: [80, 22, 1000] }, 3],
];
const d = (v) => JSON.stringify([v.ordinal, v.outcome, v.syns, v.synAcks, v.origPackets, v.respPackets, v.serverEndpoint, v.firstSynAt, v.firstSynAckAt, v.synTsVal, v.synIsn, v.synMssRaw, v.synWindowScaleRaw, v.synSackRaw, v.synIpIdRaw, v.firstInterface, v.history, v.serverClosedFirst, v.toFlow()]);
let runs = 0, same = 0;
for (const file of process.argv.slice(2)) {
  for (const [options, batch] of CONFIGS) {
    const a = [], b = [];
    const js = new FlowTracker({ ...options, onFlowView: (v) => a.push(d(v)) });
    const c = new NativeFlowTracker({ ...options, batchPackets: batch, onFlowView: (v) => b.push(d(v)) });
    const { readers } = openFiles([file]);
    const reg = new InterfaceRegistry(readers);
    const pkt = new DecodedPacket();
    readRecords(readers, (rec, ri) => {
      decodeFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, pkt);
      const iface = reg.id(ri, rec.interfaceIndex, pkt.sllIfIndex);
      const t = rec.tsSec + rec.tsNsec * 1e-9;
      if (pkt.transport === Transport.TCP || (pkt.transport === Transport.ICMP && pkt.icmpQuotesTcp)) js.add(pkt, rec.data, t, iface);
      c.addFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, t, iface); // every frame: the engine filters
    });
    for (const r of readers) r.close();
    js.finish();
    c.finish();
    runs++;
    const pj = JSON.stringify(js.pressure), pc = JSON.stringify(c.pressure);
    const i = a.findIndex((x, k) => x !== b[k]);
    const spilled = a.filter((x) => JSON.parse(x)[16].length > 24).length;
    const icmp = a.filter((x) => JSON.parse(x)[18].rejection?.by === 'icmp').length;
    if (i < 0 && a.length === b.length && pj === pc) same++;
    else console.log(`DIFF ${file} ${JSON.stringify(options)} at ${i}:\n js ${a[i]}\n c  ${b[i]}\n ${pj} ${pc}`);
    console.log(`${file} ${JSON.stringify(options)} batch ${batch}: flows ${a.length} spilled ${spilled} icmp ${icmp} ${pj}`);
  }
}
console.log(`runs ${runs} identical ${same}`);
