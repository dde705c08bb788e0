#!/usr/bin/env node
// Usage: node test/lab/convert-pcap.js IN.pcap[ng] OUT.pcap [--nanosecond] [--big-endian]
// Rewrites a single-link-type capture as classic pcap with the project's own reader and
// writer (dist/, build first), same packets and bytes, in the byte order and timestamp
// resolution asked for. Used to make the file-format variants of stored scenarios.
'use strict';
const { openCaptureFile } = require('../../dist/src/capture/open.js');
const { PcapWriter } = require('../../dist/src/capture/pcap-writer.js');
const { FileSink } = require('../../dist/src/capture/byte-sink.js');
const [input, output, ...flags] = process.argv.slice(2);
if (!input || !output || flags.some((f) => f !== '--nanosecond' && f !== '--big-endian')) {
  console.error('usage: convert-pcap.js IN OUT.pcap [--nanosecond] [--big-endian]');
  process.exit(2);
}
const reader = openCaptureFile(input);
let writer = null;
let linkType = null;
let snaplen = 0;
for (const rec of reader) {
  if (writer === null) {
    linkType = rec.linkType;
    snaplen = Math.max(...reader.interfaces.map((i) => i.snaplen || 262144));
    writer = new PcapWriter(new FileSink(output), { linkType, snaplen, nanosecond: flags.includes('--nanosecond'), bigEndian: flags.includes('--big-endian') });
  }
  if (rec.linkType !== linkType) throw new Error(`${input}: more than one link type (${linkType}, ${rec.linkType}); pcap holds one`);
  writer.writePacket(rec.data.subarray(rec.offset, rec.offset + rec.caplen), rec.tsSec, rec.tsNsec, rec.origLen);
}
if (writer === null) throw new Error(`${input}: no packets`);
writer.close();
reader.close();
console.log(`wrote ${output}: ${reader.stats.packets} packets`);
