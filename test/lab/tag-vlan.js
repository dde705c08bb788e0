#!/usr/bin/env node
// Usage: node test/lab/tag-vlan.js IN.pcapng OUT.pcapng [--vid 100]
// Rewrites an Ethernet capture as pcapng (same interface names, microsecond timestamps)
// with an 802.1Q tag (TPID 0x8100, PCP 0, VID given) inserted after the MAC addresses of
// every frame: what a capture on a trunk port carrying that VLAN shows. Used for the
// VLAN-tagged variant of a stored scenario when the kernel has no 802.1Q support
// (CONFIG_VLAN_8021Q) to record one on a VLAN sub-interface. Needs dist/ (build first).
'use strict';
const { openCaptureFile } = require('../../dist/src/capture/open.js');
const { PcapngWriter } = require('../../dist/src/capture/pcapng-writer.js');
const { FileSink } = require('../../dist/src/capture/byte-sink.js');
const LINKTYPE_ETHERNET = 1;
const args = process.argv.slice(2);
const vidAt = args.indexOf('--vid');
const vid = vidAt >= 0 ? Number(args.splice(vidAt, 2)[1]) : 100;
const [input, output] = args;
if (!input || !output || !Number.isInteger(vid) || vid < 1 || vid > 4094) {
  console.error('usage: tag-vlan.js IN OUT.pcapng [--vid 1-4094]');
  process.exit(2);
}
const reader = openCaptureFile(input);
const writer = new PcapngWriter(new FileSink(output));
const ids = new Map();
const tag = Buffer.from([0x81, 0x00, (vid >> 8) & 0x0f, vid & 0xff]);
let tagged = 0;
for (const rec of reader) {
  let id = ids.get(rec.interfaceIndex);
  if (id === undefined) {
    const ifc = reader.interfaces[rec.interfaceIndex];
    id = writer.addInterface({ linkType: ifc.linkType, name: ifc.name ?? undefined, snaplen: ifc.snaplen === 0 ? 0 : ifc.snaplen + 4 });
    ids.set(rec.interfaceIndex, id);
  }
  const frame = rec.data.subarray(rec.offset, rec.offset + rec.caplen);
  if (rec.linkType !== LINKTYPE_ETHERNET || frame.length < 14) {
    writer.writePacket(id, frame, rec.tsSec, rec.tsNsec, rec.origLen);
    continue;
  }
  writer.writePacket(id, Buffer.concat([frame.subarray(0, 12), tag, frame.subarray(12)]), rec.tsSec, rec.tsNsec, rec.origLen + 4);
  tagged++;
}
writer.close();
reader.close();
console.log(`wrote ${output}: ${reader.stats.packets} packets, ${tagged} tagged with VLAN ${vid}`);
