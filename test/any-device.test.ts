import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeReaders } from '../src/analysis';
import { BufferSource } from '../src/capture/byte-source';
import { MemorySink } from '../src/capture/byte-sink';
import { openCapture } from '../src/capture/open';
import { PcapWriter } from '../src/capture/pcap-writer';
import { PcapngWriter } from '../src/capture/pcapng-writer';
import type { CaptureReader } from '../src/capture/record';
import type { HostContext, NetInterface } from '../src/context/host-context';
import { buildTcpFrame, type TcpFrameSpec } from '../src/synth/frames';
import { iface, makeContext } from './context-fixtures';

/**
 * `tcpdump -i any` captures (Linux cooked v2) built by hand: a SYN to 192.0.2.1:8080 comes in
 * on eth0 (ifindex 2), is DNATed to 172.17.0.2:80 and leaves on docker0 (ifindex 3), where
 * nothing answers; another client's attempt completes through both hops.
 */
const ETH0_MAC = '02:00:00:00:00:e0';
const DOCKER0_MAC = '02:00:00:00:00:d0';
const CLIENT_MAC = '02:00:00:00:00:c1';
const CTR_MAC = '02:42:ac:11:00:02';
const T0 = Date.parse('2026-11-22T13:00:00Z') / 1000;
const LINUX_SLL2 = 276;
const HOST = 0;
const OUTGOING = 4;

/** The SLL2 form of an Ethernet frame: what `-i any` records for it on `ifindex`. */
function sll2(frame: Buffer, ifindex: number, packetType: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(frame.readUInt16BE(12), 0);
  h.writeUInt32BE(ifindex, 4);
  h.writeUInt16BE(1, 8);
  h[10] = packetType;
  h[11] = 6;
  frame.copy(h, 12, 6, 12);
  return Buffer.concat([h, frame.subarray(14)]);
}

interface Rec {
  at: number;
  ifindex: number;
  type: number;
  spec: TcpFrameSpec;
}

function records(): Rec[] {
  const syn = (client: string, port: number, seq: number) => ({ src: client, srcPort: port, seq, ack: 0, flags: 0x02, options: { mss: 1460, tsVal: seq, sackPermitted: true, windowScale: 7 } });
  const out: Rec[] = [];
  // The good client: eth0 in, docker0 out after DNAT, the container answers, the host un-NATs.
  out.push({ at: 0, ifindex: 2, type: HOST, spec: { ...syn('198.51.100.7', 40000, 1000), dst: '192.0.2.1', dstPort: 8080, srcMac: CLIENT_MAC, dstMac: ETH0_MAC } });
  out.push({ at: 0.0001, ifindex: 3, type: OUTGOING, spec: { ...syn('198.51.100.7', 40000, 1000), dst: '172.17.0.2', dstPort: 80, srcMac: DOCKER0_MAC, dstMac: CTR_MAC } });
  out.push({ at: 0.001, ifindex: 3, type: HOST, spec: { src: '172.17.0.2', srcPort: 80, dst: '198.51.100.7', dstPort: 40000, seq: 9000, ack: 1001, flags: 0x12, srcMac: CTR_MAC, dstMac: DOCKER0_MAC } });
  out.push({ at: 0.0011, ifindex: 2, type: OUTGOING, spec: { src: '192.0.2.1', srcPort: 8080, dst: '198.51.100.7', dstPort: 40000, seq: 9000, ack: 1001, flags: 0x12, srcMac: ETH0_MAC, dstMac: CLIENT_MAC } });
  out.push({ at: 0.002, ifindex: 2, type: HOST, spec: { src: '198.51.100.7', srcPort: 40000, dst: '192.0.2.1', dstPort: 8080, seq: 1001, ack: 9001, flags: 0x10, srcMac: CLIENT_MAC, dstMac: ETH0_MAC } });
  out.push({ at: 0.0021, ifindex: 3, type: OUTGOING, spec: { src: '198.51.100.7', srcPort: 40000, dst: '172.17.0.2', dstPort: 80, seq: 1001, ack: 9001, flags: 0x10, srcMac: DOCKER0_MAC, dstMac: CTR_MAC } });
  // The other client: its SYNs reach docker0 and nothing answers.
  for (const retry of [1, 2, 4]) {
    out.push({ at: retry, ifindex: 2, type: HOST, spec: { ...syn('198.51.100.8', 41000, 5000), dst: '192.0.2.1', dstPort: 8080, srcMac: '02:00:00:00:00:c2', dstMac: ETH0_MAC } });
    out.push({ at: retry + 0.0001, ifindex: 3, type: OUTGOING, spec: { ...syn('198.51.100.8', 41000, 5000), dst: '172.17.0.2', dstPort: 80, srcMac: DOCKER0_MAC, dstMac: CTR_MAC } });
  }
  return out;
}

function pcap(recs: readonly Rec[]): CaptureReader {
  const sink = new MemorySink();
  const w = new PcapWriter(sink, { linkType: LINUX_SLL2 });
  for (const r of recs) {
    const at = T0 + r.at;
    w.writePacket(sll2(buildTcpFrame(r.spec), r.ifindex, r.type), Math.floor(at), Math.round((at % 1) * 1e6) * 1000);
  }
  w.close();
  return openCapture(new BufferSource(sink.toBuffer()), 'any.pcap');
}

function pcapng(recs: readonly Rec[], idbName: string): CaptureReader {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink);
  const idb = w.addInterface({ linkType: LINUX_SLL2, name: idbName });
  for (const r of recs) {
    const at = T0 + r.at;
    w.writePacket(idb, sll2(buildTcpFrame(r.spec), r.ifindex, r.type), Math.floor(at), Math.round((at % 1) * 1e6) * 1000);
  }
  w.close();
  return openCapture(new BufferSource(sink.toBuffer()), 'any.pcapng');
}

function withIndex(i: NetInterface, index: number, mac: string): NetInterface {
  return { ...i, index, mac };
}

function host(parts: Partial<HostContext> = {}): HostContext {
  return makeContext({
    capturedAt: '2026-11-22T13:02:00.000Z',
    interfaces: [
      withIndex(iface('lo', 'loopback', ['127.0.0.1/8']), 1, '00:00:00:00:00:00'),
      withIndex(iface('eth0', 'physical', ['192.0.2.1/24']), 2, ETH0_MAC),
      withIndex(iface('docker0', 'bridge', ['172.17.0.1/16']), 3, DOCKER0_MAC),
    ],
    ...parts,
  });
}

test('with a matching snapshot, each ifindex is its interface: flows, inputs and the stitched path name eth0 and docker0', () => {
  const a = analyzeReaders([pcap(records())], { context: host() });
  assert.deepEqual(a.warnings, []);
  assert.deepEqual(a.inputs[0]!.interfaces, ['eth0', 'docker0']);
  assert.deepEqual(a.summary.handshakes, { attempted: 2, completed: 1, unanswered: 1, rejected: 0, synAckLost: 0 }, 'each attempt counts once across its two hops');
  assert.equal(a.attempts.length, 1);
  assert.deepEqual(a.attempts[0]!.hops.map((h) => h.interface), ['eth0', 'docker0']);
  assert.deepEqual(a.flows.map((f) => f.interfaces.map((i) => a.interfaceNames[i])), [['eth0'], ['docker0']]);
});

test('without a snapshot the interfaces are if<N>, never guessed, and the report says why', () => {
  const a = analyzeReaders([pcap(records())]);
  assert.deepEqual(a.inputs[0]!.interfaces, ['if2', 'if3']);
  assert.equal(a.attempts.length, 1, 'still two hops of one attempt');
  assert.deepEqual(a.attempts[0]!.hops.map((h) => h.interface), ['if2', 'if3']);
  assert.equal(a.warnings.length, 1);
  assert.match(a.warnings[0]!, /^any\.pcap: Linux cooked v2 .* by ifindex only; no host context was given .*: if2, if3$/);
});

test('a snapshot of another host or a week old names nothing and is not used', () => {
  const other = host({ interfaces: [withIndex(iface('eth0', 'physical', ['10.9.0.5/24']), 2, '52:54:00:12:34:56'), withIndex(iface('docker0', 'bridge', ['172.17.0.1/16']), 3, '02:42:9f:00:00:01')] });
  for (const ctx of [other, host({ capturedAt: '2026-11-15T13:00:00.000Z' })]) {
    const a = analyzeReaders([pcap(records())], { context: ctx, bridges: [] });
    assert.deepEqual(a.inputs[0]!.interfaces, ['if2', 'if3']);
    assert.match(a.warnings[0]!, /does not belong to this capture/);
    assert.match(a.warnings[1]!, /could not be confirmed to belong to this capture/);
  }
});

test('a pcapng with one IDB "any" (dumpcap -i any) is keyed by ifindex; an IDB that names its interface keeps that name', () => {
  const any = analyzeReaders([pcapng(records(), 'any')], { context: host() });
  assert.deepEqual(any.inputs[0]!.interfaces, ['eth0', 'docker0']);
  const named = analyzeReaders([pcapng(records(), 'eth1')], { context: host() });
  assert.deepEqual(named.inputs[0]!.interfaces, ['eth1']);
});

test('two -i any files of one host share their ifindexes', () => {
  const recs = records();
  const a = analyzeReaders([pcap(recs.slice(0, 6)), pcap(recs.slice(6))], { context: host() });
  assert.deepEqual(a.interfaceNames, ['eth0', 'docker0']);
  assert.deepEqual(a.inputs.map((i) => i.interfaces), [['eth0', 'docker0'], ['eth0', 'docker0']]);
});

test('a bridge\'s copy on its port is the same packet: SYNs and SYN-ACKs count once, retransmissions still count', () => {
  const recs: Rec[] = [];
  for (const r of records()) {
    recs.push(r);
    // docker0 hands every frame to the container's veth (ifindex 7) and takes its answers from it.
    if (r.ifindex === 3) recs.push({ ...r, at: r.at + 0.00001, ifindex: 7, type: r.type === OUTGOING ? OUTGOING : 3 });
  }
  recs.sort((a, b) => a.at - b.at);
  const a = analyzeReaders([pcap(recs)], { context: host(), allFlows: true });
  const inner = a.flows.filter((f) => f.serverIp === '172.17.0.2');
  assert.deepEqual(inner.map((f) => [f.syns, f.synAcks, f.interfaces.map((i) => a.interfaceNames[i])]), [
    [1, 1, ['docker0', 'if7']],
    [3, 0, ['docker0', 'if7']],
  ]);
  assert.deepEqual(a.summary.handshakes, { attempted: 2, completed: 1, unanswered: 1, rejected: 0, synAckLost: 0 });
});
