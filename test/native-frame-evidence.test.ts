import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TcpFlag } from '../src/decode/packet';
import { findScenarios } from '../src/regress/find-scenarios';
import { buildArpRequest, buildTcpFrame } from '../src/synth/frames';
import { anyDeviceFile, perInterfaceFiles } from './capture-cut';
import { REPO } from './cli-harness';
import { writeFramesPcap, type Frame } from './frames-pcap';
import { runStages } from './stage-harness';
import { multiInterfaceScenarios } from './stored-scenarios';
import { tempDir } from './temp-dir';
import { corpus, readPcapFrames } from './decode-helpers';
import { ETHERNET_SYN, VXLAN_SYN } from './decode-fixtures';
import { Prng } from '../src/synth/prng';

/**
 * The frame evidence the C engine keeps with the native tracker (native/src/engine/frame-evidence.c:
 * SYN and SYN-ACK counts, handshakes cut before their options, handshake packets seen twice,
 * the MACs per interface, the source MACs per IPv4 address) against what DecodeStage and
 * PacketEvidence note with the JS tracker: the same, in the same order.
 */

interface FrameEvidence {
  syns: number;
  synAcks: number;
  optionsCut: number;
  duplicates: number;
  tcp: number[];
  links: unknown;
  linksWithBroadcast: unknown;
  addressMacs: unknown;
}

function frameEvidence(files: readonly string[], native: boolean): FrameEvidence {
  const { decode, evidence } = runStages(files, native);
  const names = decode.interfaces.names;
  return {
    syns: decode.synsSeen,
    synAcks: decode.synAcksSeen,
    optionsCut: decode.handshakeOptionsCut,
    duplicates: decode.duplicates.count,
    tcp: [decode.tcpPackets, decode.rstsSeen, decode.tcpWithoutSynOrRst],
    links: [...evidence.linkMacs.named(names)],
    linksWithBroadcast: [...evidence.linkMacs.named(names, true)],
    addressMacs: [...evidence.addressMacs(names)],
  };
}

function assertSame(files: readonly string[], label: string): FrameEvidence {
  const js = frameEvidence(files, false);
  const c = frameEvidence(files, true);
  assert.deepEqual(c, js, label);
  return js;
}

const mac = (n: number) => `02:00:00:${((n >> 16) & 0xff).toString(16).padStart(2, '0')}:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
const ipv4 = (n: number) => `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`;

/**
 * Frames for each way the evidence can go wrong: addresses behind many MACs (more than the
 * report lists), ARP before handshakes with another MAC (order), more interface MACs than are
 * kept, broadcast destinations, SYNs copied within milliseconds, SYN-ACKs, handshakes cut
 * inside their options, IPv6, and more (address, interface) pairs than the table takes.
 */
function evidenceFrames(): Frame[] {
  const frames: Frame[] = [];
  let at = 1_700_000_000;
  const syn = (src: string, dst: string, srcMac: string, port: number, extra: { dstMac?: string; flags?: number; ipId?: number } = {}) =>
    buildTcpFrame({ src, dst, srcMac, dstMac: extra.dstMac ?? '02:aa:00:00:00:01', srcPort: port, dstPort: 80, seq: port * 7919, ack: 0, flags: extra.flags ?? TcpFlag.SYN, ipId: extra.ipId ?? port, options: { mss: 1460, tsVal: port * 13 } });
  // An address that first shows one MAC in ARP, then others in its SYNs; another with twelve MACs, in turn.
  frames.push({ data: buildArpRequest({ senderMac: mac(900), senderIp: '192.168.1.2', targetIp: '192.168.1.1' }), at: (at += 0.001) });
  frames.push({ data: buildArpRequest({ senderMac: mac(901), senderIp: '0.0.0.0', targetIp: '192.168.1.2' }), at: (at += 0.001) });
  for (let i = 0; i < 60; i++) {
    frames.push({ data: syn('192.168.1.2', '192.168.1.1', mac(902 + (i % 3)), 1000 + i), at: (at += 0.02) });
    frames.push({ data: syn('192.168.1.3', '192.168.1.1', mac(950 + ((i * 7) % 12)), 2000 + i), at: (at += 0.02) });
  }
  // Copies of SYNs within a millisecond (one packet at two hops), and SYN-ACKs with copies too.
  for (let i = 0; i < 40; i++) {
    const data = syn(ipv4(100 + i), '192.168.1.1', mac(1), 3000 + i);
    frames.push({ data, at: (at += 0.03) }, { data, at: (at += 0.0002) });
    const answer = buildTcpFrame({ src: '192.168.1.1', dst: ipv4(100 + i), srcMac: '02:aa:00:00:00:01', dstMac: mac(1), srcPort: 80, dstPort: 3000 + i, seq: i * 31, ack: (3000 + i) * 7919 + 1, flags: TcpFlag.SYN | TcpFlag.ACK, ipId: 0 });
    frames.push({ data: answer, at: (at += 0.001) });
    if (i % 4 === 0) frames.push({ data: answer, at: (at += 0.0001) });
  }
  // Handshakes cut inside their options; a SYN to a broadcast MAC; IPv6 SYNs with their MACs.
  for (let i = 0; i < 20; i++) frames.push({ data: syn(ipv4(200 + i), '192.168.1.1', mac(2), 4000 + i), at: (at += 0.05), caplen: 14 + 20 + 22 });
  frames.push({ data: syn('192.168.1.9', '192.168.1.1', mac(3), 5000, { dstMac: 'ff:ff:ff:ff:ff:ff' }), at: (at += 0.05) });
  for (let i = 0; i < 30; i++) frames.push({ data: syn(`fd00::${(i % 5) + 1}`, 'fd00::100', mac(600 + (i % 9)), 6000 + i), at: (at += 0.05) });
  // More sources than MacSightings takes (3/4 of 2^16 pairs), from more MACs than an interface keeps.
  for (let i = 0; i < 60_000; i++) frames.push({ data: syn(ipv4(70_000 + i), '192.168.1.1', mac(10_000 + (i % 40)), 1024 + (i % 60_000)), at: (at += 0.0001) });
  // After the table is full: a known address with a new MAC (counted), a new one (not).
  frames.push({ data: syn('192.168.1.3', '192.168.1.1', mac(999), 7000), at: (at += 0.05) });
  frames.push({ data: buildArpRequest({ senderMac: mac(998), senderIp: '192.168.7.7', targetIp: '192.168.1.1' }), at: (at += 0.05) });
  return frames;
}

test('the C engine keeps the frame evidence JavaScript would: counts, copies, interface MACs, source MACs', () => {
  const file = path.join(tempDir('synscope-frame-evidence-'), 'evidence.pcap');
  writeFramesPcap(file, evidenceFrames());
  const js = assertSame([file], 'generated');
  // The file exercises what it is for.
  assert.ok(js.duplicates >= 50, `duplicates ${js.duplicates}`);
  assert.ok(js.optionsCut >= 20, `options cut ${js.optionsCut}`);
  assert.ok(js.synAcks >= 50 && js.syns >= 60_000, `${js.syns} SYNs, ${js.synAcks} SYN-ACKs`);
  const macs = new Map(js.addressMacs as [string, { mac: string }[]][]);
  assert.equal(macs.get('192.168.1.2')?.[0]?.mac, mac(900), 'the ARP MAC came first');
  assert.equal(macs.get('192.168.1.3')?.length, 8, 'twelve MACs, eight listed');
  assert.ok(macs.has('fd00::1'), 'IPv6 sightings');
  assert.ok(!macs.has('192.168.7.7') && macs.size < 60_000, `the table stopped taking new pairs (${macs.size})`);
  const links = new Map(js.links as [string, string[]][]);
  assert.equal([...links.values()][0]?.length, 32, 'an interface keeps 32 MACs');
});

test('every stored scenario, capture fixture and multi-interface cut gives the same frame evidence with the C tracker', () => {
  let compared = 0;
  for (const sc of findScenarios(path.join(REPO, 'captures'))) {
    if (sc.captures.length === 0) continue;
    assertSame(sc.captures, path.basename(sc.dir));
    compared++;
  }
  const fixtures = path.join(REPO, 'test', 'fixtures', 'capture');
  for (const f of fs.readdirSync(fixtures).filter((n) => /\.pcap(ng)?(\.gz)?$/.test(n))) {
    assertSame([path.join(fixtures, f)], f);
    compared++;
  }
  for (const sc of multiInterfaceScenarios()) {
    const dir = tempDir('synscope-frame-evidence-cut-');
    const any = anyDeviceFile(sc.capture, sc.context, path.join(dir, 'any.pcap'));
    for (const files of [perInterfaceFiles(sc.capture, dir), ...(any === null ? [] : [[any]])]) {
      assertSame(files, `${sc.name}: ${files.map((f) => path.basename(f)).join(' ')}`);
      compared++;
    }
  }
  assert.ok(compared >= 120, `${compared} compared`);
});

test('mutated and cut frames of every link type give the same frame evidence in C as in JavaScript', () => {
  const dir = tempDir('synscope-frame-evidence-hostile-');
  const random = new Prng(29);
  const ethernet = [ETHERNET_SYN, VXLAN_SYN, buildArpRequest({ senderMac: mac(5), senderIp: '10.0.0.5', targetIp: '10.0.0.1', pad: true })];
  const seeds = [
    ...HOSTILE_SEEDS.flatMap((f) => readPcapFrames(corpus(f))),
    ...ethernet.map((data) => ({ linkType: 1, data })),
    ...ethernet.flatMap((data) => [0, 4].map((packetType) => ({ linkType: 113, data: cookedV1(data, packetType) }))),
  ];
  const byLink = new Map<number, Frame[]>();
  let at = 1_700_000_000;
  for (let i = 0; i < 40_000; i++) {
    const seed = seeds[random.nextUint32() % seeds.length]!;
    const data = Buffer.from(seed.data);
    for (let e = random.nextUint32() % 5; e > 0; e--) data[random.nextUint32() % data.length] = random.nextUint32() & 0xff;
    const caplen = random.nextUint32() % 4 === 0 ? random.nextUint32() % (data.length + 1) : data.length;
    if (!byLink.has(seed.linkType)) byLink.set(seed.linkType, []);
    byLink.get(seed.linkType)!.push({ data, at: (at += 0.002), caplen });
  }
  let handshakes = 0;
  for (const [linkType, frames] of byLink) {
    const file = path.join(dir, `${linkType}.pcap`);
    writeFramesPcap(file, frames, linkType);
    const js = assertSame([file], `link type ${linkType}`);
    handshakes += js.syns + js.synAcks;
  }
  assert.ok(byLink.size >= 5 && handshakes > 2000, `${byLink.size} link types, ${handshakes} handshake packets`);
});

/** An Ethernet frame as Linux cooked v1 shows it: packet type, ARPHRD_ETHER, the sender's MAC, the EtherType. */
function cookedV1(frame: Buffer, packetType: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(packetType, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt16BE(6, 4);
  frame.copy(h, 6, 6, 12);
  frame.copy(h, 14, 12, 14);
  return Buffer.concat([h, frame.subarray(14)]);
}

/** Real frames with VLAN, MPLS, PPPoE, IPv6, SLL2 and raw IP among them. */
const HOSTILE_SEEDS = ['zeek/http__connect-with-header.pcap', 'zeek/pppoe-over-qinq.pcap', 'zeek/mixed-vlan-mpls.pcap', 'tcpdump/802.1ad_QinQ.pcap', 'zeek/ftp__ipv6.pcap', 'tcpdump/LINKTYPE_RAW_ipv6.pcap', 'zeek/linux_dlt_sll2.pcap', 'tcpdump/LINKTYPE_IPV4.pcap'];
