#!/usr/bin/env node
'use strict';
/*
 * The JS side of the comparison: reads a capture with synscope's own reader and decoder
 * (/work/main/dist, built JS) and runs its FlowTracker with the CLI's defaults, printing
 * one line per flow in the same format as `proto/track --flows`, or only totals with
 * --count (same tracker work, no text).
 *
 *   node proto/js-flows.js [--count|--flows|--decode-only|--read-only] [--zeek-timers] [--max-live N] file.pcap
 */
const DIST = process.env.SYNSCOPE_DIST || '/work/main/dist';
const { openFiles, readRecords } = require(`${DIST}/src/analysis/read.js`);
const { decodeFrame } = require(`${DIST}/src/decode/dispatch.js`);
const { DecodedPacket, Transport } = require(`${DIST}/src/decode/packet.js`);
const { FlowTracker } = require(`${DIST}/src/flow/tracker.js`);
const { connState } = require(`${DIST}/src/flow/conn-state.js`);

let mode = 'flows';
let path = null;
const trackerOptions = {};
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--count') mode = 'count';
  else if (a === '--zeek-timers') trackerOptions.zeekTimers = true;
  else if (a === '--max-live') trackerOptions.maxLiveFlows = Number(args[++i]);
  else if (a === '--flows') mode = 'flows';
  else if (a === '--decode-only') mode = 'decode';
  else if (a === '--read-only') mode = 'read';
  else path = a;
}
if (path === null) {
  console.error('usage: js-flows.js [--count|--flows|--decode-only|--read-only] file.pcap');
  process.exit(2);
}

// Record layout offsets (flow-record.ts; const enums, so not exported by the build).
const WORDS = 128;
const WIDE_WORDS = 64;
const S_ORIG_SIDE = 26;
const S_IP_VERSION = 77;
const S_HIST_LEN = 122;
const HIST_SPILLED = 255;
const E_STATE = 0;
const E_PREV_STATE = 30;
const W_FIRST_SEEN = 1;

let flows = 0;
let packets = 0;
let syns = 0;
let synAcks = 0;
let histLen = 0;
const lines = [];
let pending = '';

function hex8(x) {
  return x.toString(16).padStart(8, '0');
}

/** IPv6 as four 32-bit words in hex (A0, A1, A2, A3 = words 9, 10, 11, 7 of the endpoint). */
function address6(view, e) {
  const u = view.store.uint;
  return `${hex8(u[e + 9])}:${hex8(u[e + 10])}:${hex8(u[e + 11])}:${hex8(u[e + 7])}`;
}

function onFlowView(view) {
  flows++;
  const orig = view.origPackets;
  const resp = view.respPackets;
  packets += orig + resp;
  syns += view.syns;
  synAcks += view.synAcks;
  const store = view.store;
  const slot = view.slot;
  if (mode === 'count') {
    const n = store.int[slot * WORDS + S_HIST_LEN];
    histLen += n === HIST_SPILLED ? view.history.length : n;
    return;
  }
  const r = store.int;
  const client = view.client;
  const server = view.server;
  const history = view.history;
  histLen += history.length;
  const version = r[slot * WORDS + S_IP_VERSION] === 6 ? 6 : 4;
  const cip = version === 4 ? view.clientIp : address6(view, client);
  const sip = version === 4 ? view.serverIp : address6(view, server);
  const state = connState(r, store.uint, client, server, history);
  const tsVal = view.synTsVal;
  pending +=
    `${view.ordinal} ${version} ${cip} ${view.clientPort} ${sip} ${view.serverPort} ${orig} ${resp} ${view.syns} ${view.synAcks} ` +
    `${history === '' ? '-' : history} ${state} ${r[client + E_STATE]}/${r[client + E_PREV_STATE]} ${r[server + E_STATE]}/${r[server + E_PREV_STATE]} ` +
    `${store.wide[slot * WIDE_WORDS + W_FIRST_SEEN].toFixed(6)} ${view.lastSeen.toFixed(6)} ${view.synMssRaw} ${view.synWindowScaleRaw} ${view.synSackRaw} ${tsVal === null ? -1 : tsVal}\n`;
  if (pending.length > 1 << 16) {
    lines.push(pending);
    pending = '';
    if (lines.length >= 16) flush();
  }
}

const fs = require('node:fs');
function flush() {
  if (pending !== '') {
    lines.push(pending);
    pending = '';
  }
  for (const l of lines) fs.writeSync(1, l);
  lines.length = 0;
}

const tracker = mode === 'flows' || mode === 'count' ? new FlowTracker({ onFlowView, ...trackerOptions }) : null;
const pkt = new DecodedPacket();
const { readers } = openFiles([path]);
let records = 0;
let tcp = 0;
let bytes = 0;
readRecords(readers, (rec) => {
  records++;
  bytes += rec.caplen;
  if (mode === 'read') return;
  decodeFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, pkt);
  const time = rec.tsSec + rec.tsNsec * 1e-9;
  if (pkt.transport === Transport.TCP) {
    tcp++;
    if (tracker !== null) tracker.add(pkt, rec.data, time, 0);
  } else if (pkt.transport === Transport.ICMP && pkt.icmpQuotesTcp) {
    if (tracker !== null) tracker.add(pkt, rec.data, time, 0);
  }
});
if (tracker !== null) tracker.finish();
for (const r of readers) r.close();
flush();
const p = tracker !== null ? tracker.pressure : { endedEarly: 0, synRetransmissionsAfter: 0, answersAfter: 0 };
const totals =
  `records ${records} bytes ${bytes} tcp ${tcp} flows ${flows} packets ${packets} syns ${syns} synAcks ${synAcks} histLen ${histLen} ` +
  `endedEarly ${p.endedEarly} synRetransmissionsAfter ${p.synRetransmissionsAfter} answersAfter ${p.answersAfter}`;
if (mode === 'flows') {
  console.error(totals.replace(/ bytes \d+/, '').replace(/ syns \d+ synAcks \d+/, ''));
} else {
  console.log(totals);
}
