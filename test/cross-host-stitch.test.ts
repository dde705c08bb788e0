import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { FileSink } from '../src/capture/byte-sink';
import { PcapngWriter } from '../src/capture/pcapng-writer';
import { decodeFrame } from '../src/decode/dispatch';
import { DecodedPacket, TcpFlag } from '../src/decode/packet';
import { VxlanLegs } from '../src/flow/vxlan-legs';
import { analyzeFiles } from '../src/analysis';
import { analyzeHosts } from '../src/hosts/analyze-hosts';
import { renderAttemptLadders } from '../src/report/ladder';
import { parseIp } from '../src/synth/address';
import { internetChecksum } from '../src/synth/checksum';
import { buildTcpFrame, type TcpFrameSpec } from '../src/synth/frames';
import { REPO, runCli } from './cli-harness';
import { tempDir } from './temp-dir';
import { iface, makeContext } from './context-fixtures';

const LINKTYPE_ETHERNET = 1;
const T0 = 1_800_000_000;
const VNI = 4096;
const NODE_A = '192.0.2.1';
const NODE_B = '192.0.2.2';

/** The inner frame inside VXLAN (RFC 7348): outer Ethernet, IPv4, UDP to 4789, the VXLAN header with the I flag. */
function vxlan(inner: Buffer, from: string, to: string, vni = VNI): Buffer {
  const out = Buffer.alloc(14 + 20 + 8 + 8 + inner.length);
  out.set([2, 0, 0, 0, 0, 0xb, 2, 0, 0, 0, 0, 0xa, 0x08, 0x00], 0);
  const ip = 14;
  out[ip] = 0x45;
  out.writeUInt16BE(20 + 8 + 8 + inner.length, ip + 2);
  out[ip + 8] = 64;
  out[ip + 9] = 17;
  out.set(parseIp(from), ip + 12);
  out.set(parseIp(to), ip + 16);
  out.writeUInt16BE(internetChecksum(out, ip, ip + 20), ip + 10);
  const udp = ip + 20;
  out.writeUInt16BE(51000, udp);
  out.writeUInt16BE(4789, udp + 2);
  out.writeUInt16BE(8 + 8 + inner.length, udp + 4);
  out[udp + 8] = 0x08;
  out.writeUIntBE(vni, udp + 12, 3);
  out.set(inner, udp + 16);
  return out;
}

interface Frame {
  iface: number;
  at: number;
  bytes: Buffer;
}

function writeCapture(file: string, interfaces: readonly string[], frames: readonly Frame[]): void {
  const writer = new PcapngWriter(new FileSink(file));
  for (const name of interfaces) writer.addInterface({ linkType: LINKTYPE_ETHERNET, name, tsResolution: 'ns' });
  for (const f of [...frames].sort((a, b) => a.at - b.at)) {
    const ns = Math.round((f.at % 1) * 1e9);
    writer.writePacket(f.iface, f.bytes, T0 + Math.floor(f.at), ns);
  }
  writer.close();
}

const OPTIONS = { mss: 1460, windowScale: 7, sackPermitted: true, tsVal: 777 };
const ISN = 1000;
const SERVER_ISN = 5000;

/** One handshake's packets at one hop, as this hop saw its tuple. */
function syn(src: string, srcPort: number, dst: string, dstPort: number): Buffer {
  return buildTcpFrame({ src, dst, srcPort, dstPort, seq: ISN, ack: 0, flags: TcpFlag.SYN, options: OPTIONS, ipId: 42 });
}
function synAck(src: string, srcPort: number, dst: string, dstPort: number): Buffer {
  return buildTcpFrame({ src, dst, srcPort, dstPort, seq: SERVER_ISN, ack: ISN + 1, flags: TcpFlag.SYN | TcpFlag.ACK, options: { mss: 1460, tsVal: 9, tsEcr: 777 } });
}

/** An untranslated handshake between the nodes themselves (swarm gossip), seen by both: it gives the clock offset. */
function gossip(at: number, port = 45000): { a: Frame[]; b: Frame[] } {
  const spec = (s: Partial<TcpFrameSpec>): Buffer => buildTcpFrame({ src: NODE_A, dst: NODE_B, srcPort: port, dstPort: 7946, seq: 7, ack: 0, flags: TcpFlag.SYN, ...s });
  const packets = [spec({}), spec({ src: NODE_B, dst: NODE_A, srcPort: 7946, dstPort: port, seq: 70, ack: 8, flags: TcpFlag.SYN | TcpFlag.ACK }), spec({ seq: 8, ack: 71, flags: TcpFlag.ACK })];
  return { a: packets.map((bytes, i) => ({ iface: 0, at: at + i * 0.001, bytes })), b: packets.map((bytes, i) => ({ iface: 0, at: at + i * 0.001 + 0.0005, bytes })) };
}

/**
 * Node A: the client's SYN to A's published port on eth0 (0), ingress_sbox's DNAT+SNAT to
 * the task's ingress address on its eth0 (1), the same inner SYN leaving in VXLAN on eth0.
 * Node B: the VXLAN arriving on eth0 (0), the task's leg (1) answering with SYN-ACKs that
 * never leave B. `late` shifts B's view of the attempt (not its clock) by that many seconds;
 * `lostBetween`: B never sees the attempt at all (its capture runs before and after it).
 */
function failingAcrossNodes(dir: string, options: { bClock?: number; late?: number; lostBetween?: boolean } = {}): { a: string; b: string } {
  const bClock = options.bClock ?? 0;
  const late = options.late ?? 0;
  const a: Frame[] = [];
  const b: Frame[] = [];
  for (const [k, t] of [1, 2].entries()) {
    a.push({ iface: 0, at: t, bytes: syn('192.0.2.10', 40000, NODE_A, 8080) });
    a.push({ iface: 1, at: t + 0.0001, bytes: syn('10.0.0.2', 40000, '10.0.0.5', 8080) });
    a.push({ iface: 0, at: t + 0.0002, bytes: vxlan(syn('10.0.0.2', 40000, '10.0.0.5', 8080), NODE_A, NODE_B) });
    b.push({ iface: 0, at: t + 0.0005 + late, bytes: vxlan(syn('10.0.0.2', 40000, '10.0.0.5', 8080), NODE_A, NODE_B) });
    b.push({ iface: 1, at: t + 0.0006 + late, bytes: syn('10.0.0.2', 40000, '10.0.0.5', 8080) });
    b.push({ iface: 1, at: t + 0.0007 + late + k * 0.0001, bytes: synAck('10.0.0.5', 8080, '10.0.0.2', 40000) });
  }
  if (options.lostBetween === true) b.length = 0;
  for (const g of [gossip(0.5, 45000), gossip(5, 45001)]) {
    a.push(...g.a);
    b.push(...g.b);
  }
  const files = { a: path.join(dir, 'node-a.pcapng'), b: path.join(dir, 'node-b.pcapng') };
  writeCapture(files.a, ['eth0', 'eth0@ingress_sbox'], a);
  writeCapture(files.b, ['eth0', 'eth0@web.1'], b.map((f) => ({ ...f, at: f.at + bClock })));
  return files;
}

function hosts(files: { a: string; b: string }, withContexts = false) {
  const context = (address: string) => (withContexts ? makeContext({ capturedAt: new Date((T0 + 6) * 1000).toISOString(), interfaces: [iface('eth0', 'physical', [`${address}/24`])] }) : null);
  return [
    { name: 'node-a', files: [files.a], context: context(NODE_A) },
    { name: 'node-b', files: [files.b], context: context(NODE_B) },
  ];
}

const tmp = () => tempDir('synscope-cross-host-');

test('a decapsulated SYN and SYN-ACK are one VXLAN leg: inner tuple and ISN as the client sent them, the tunnel ends as the SYN went', () => {
  const legs = new VxlanLegs();
  const pkt = new DecodedPacket();
  for (const [bytes, at] of [[vxlan(syn('10.0.0.2', 40000, '10.0.0.5', 8080), NODE_A, NODE_B), 1], [vxlan(synAck('10.0.0.5', 8080, '10.0.0.2', 40000), NODE_B, NODE_A), 1.1]] as const) {
    decodeFrame(LINKTYPE_ETHERNET, bytes, 0, bytes.length, pkt);
    legs.add(pkt, at, 3);
  }
  // A plain (not tunnelled) SYN is not a leg.
  const plain = syn('10.0.0.2', 40001, '10.0.0.5', 8080);
  decodeFrame(LINKTYPE_ETHERNET, plain, 0, plain.length, pkt);
  legs.add(pkt, 1.2, 3);
  assert.deepEqual(legs.list(), [{ iface: 3, vni: VNI, client: '10.0.0.2:40000', server: '10.0.0.5:8080', isn: ISN, from: NODE_A, to: NODE_B, firstSynAt: 1, syns: 1, synAcks: 1 }]);
});

test('the VXLAN legs are bounded; what the bound turns away is counted', () => {
  const legs = new VxlanLegs(1);
  const pkt = new DecodedPacket();
  for (const port of [40000, 40001, 40001]) {
    const bytes = vxlan(syn('10.0.0.2', port, '10.0.0.5', 8080), NODE_A, NODE_B);
    decodeFrame(LINKTYPE_ETHERNET, bytes, 0, bytes.length, pkt);
    legs.add(pkt, 1, 0);
  }
  assert.deepEqual(legs.list().map((l) => [l.client, l.syns]), [['10.0.0.2:40000', 1]]);
  assert.equal(legs.notRecorded, 2);
});

test('one attempt across two nodes is one ladder, hops named interface@node, dying where the SYN-ACK stopped', () => {
  const a = analyzeHosts(hosts(failingAcrossNodes(tmp())), {});
  const spanning = a.attempts.filter((p) => p.hops.some((h) => h.interface.endsWith('@node-a')) && p.hops.some((h) => h.interface.endsWith('@node-b')));
  assert.equal(spanning.length, 1, JSON.stringify(a.attempts, null, 1));
  assert.equal(a.attempts.length, 1, 'no per-node piece of the attempt is left beside it');
  const path = spanning[0]!;
  const via = `vxlan ${VNI} ${NODE_A} > ${NODE_B}`;
  assert.deepEqual(
    path.hops.map((h) => [h.interface, h.translation, h.synAcks, h.via ?? null]),
    [
      ['eth0@node-a', 'none', 0, null],
      ['eth0@ingress_sbox@node-a', 'dnat+snat', 0, null],
      ['eth0@node-a', 'dnat+snat', 0, via],
      ['eth0@node-b', 'dnat+snat', 0, via],
      ['eth0@web.1@node-b', 'dnat+snat', 2, null],
    ],
  );
  assert.equal(path.outcome, 'unanswered');
  assert.deepEqual(path.reached, { syn: 'eth0@web.1@node-b', synAck: 'eth0@web.1@node-b' });
  // One finding, naming the hop where it died; node-b's syn-ack-lost (its half) is not a second one.
  assert.deepEqual(a.findings.map((f) => f.code), ['nat-path-break']);
  const f = a.findings[0]!;
  assert.equal(f.evidence['seenAt'], 'eth0@web.1@node-b');
  assert.equal(f.evidence['missingAt'], 'eth0@node-b');
  assert.equal(f.evidence['via'], via);
  assert.deepEqual(f.clients, ['192.0.2.10']);
  assert.match(f.remedy[0]!, /node-b's filter rules .*UDP 4789 to 192\.0\.2\.1/);
  // The attempt counts once (node-b's view of it is not another attempt); the gossip handshake once too.
  assert.deepEqual(a.summary.handshakes, { attempted: 3, completed: 2, unanswered: 1, rejected: 0, synAckLost: 0 });
  const ladder = renderAttemptLadders(a.attempts, a.flows).join('\n');
  assert.match(ladder, /eth0@node-b +SYN x2, over vxlan 4096 192\.0\.2\.1 > 192\.0\.2\.2 +X  no SYN-ACK/);
  assert.match(ladder, /SYN-ACK seen at eth0@web…@node-b but not at eth0@node-b: it died between them/, 'a long hop name is cut but keeps its node');
});

test('the capture clocks may differ: the offset from a handshake both nodes saw is taken off before the time check', () => {
  const a = analyzeHosts(hosts(failingAcrossNodes(tmp(), { bClock: 30 })), {});
  assert.ok(Math.abs(a.hosts![1]!.clockOffsetSeconds! - 30) < 0.01, String(a.hosts![1]!.clockOffsetSeconds));
  assert.equal(a.attempts.length, 1);
  assert.equal(a.attempts[0]!.hops.length, 5);
});

test('the same inner tuple and ISN arriving at the other node too long after it left is not the same attempt', () => {
  const a = analyzeHosts(hosts(failingAcrossNodes(tmp(), { late: 10 })), {});
  assert.ok(!a.attempts.some((p) => p.hops.some((h) => h.interface.endsWith('@node-b')) && p.hops.some((h) => h.interface.endsWith('@node-a'))), JSON.stringify(a.attempts));
  assert.deepEqual(a.summary.handshakes.attempted, 4, 'node-b saw an attempt of its own');
});

test('with both nodes\' contexts, a SYN that left over VXLAN and never arrived at the other node dies between the nodes', () => {
  const a = analyzeHosts(hosts(failingAcrossNodes(tmp(), { lostBetween: true }), true), {});
  assert.deepEqual(a.hosts!.map((h) => h.context?.namespace ?? null), ['host', 'host'], `contexts used: ${a.warnings.join('; ')}`);
  assert.equal(a.attempts.length, 1);
  assert.deepEqual(a.attempts[0]!.hops.map((h) => h.interface), ['eth0@node-a', 'eth0@ingress_sbox@node-a', 'eth0@node-a']);
  assert.deepEqual(a.findings.map((f) => [f.code, f.evidence['seenAt'], f.evidence['missingAt']]), [['nat-path-break', 'eth0@node-a', 'eth0@node-b']]);
  assert.match(a.findings[0]!.remedy[0]!, /from node-a to node-b \(UDP 4789, 192\.0\.2\.1 to 192\.0\.2\.2\)/);
  // node-b's capture of eth0 comes before its own firewall: the remedy is the way between the nodes, not node-b's INPUT rules.
  assert.match(a.findings[0]!.remedy[0]!, /lost between the nodes\. Allow UDP 4789 from 192\.0\.2\.1 to 192\.0\.2\.2 in the security groups/);
  assert.doesNotMatch(a.findings[0]!.remedy.join(' '), /INPUT/);
  // Without the contexts nothing says where the tunnel went: node-a's own view stays.
  const alone = analyzeHosts(hosts(failingAcrossNodes(tmp(), { lostBetween: true })), {});
  assert.ok(alone.findings.every((f) => f.evidence['missingAt'] !== 'eth0@node-b'), JSON.stringify(alone.findings.map((f) => f.evidence)));
});

test('with the contexts, the sender is the node owning the tunnel source, whichever capture saw the SYN first', () => {
  const a = analyzeHosts(hosts(failingAcrossNodes(tmp(), { bClock: -0.2 }), true), {});
  assert.deepEqual(a.attempts.map((p) => p.hops[0]!.interface), ['eth0@node-a']);
  assert.equal(a.attempts[0]!.hops.length, 5);
});

test('the recorded two-node swarm: the failed attempt\'s flows carry one path over node1 and node2 in the JSON report', async () => {
  const dir = path.join(REPO, 'captures', 'docker-real-swarm-ingress-cross-node');
  const r = await runCli('analyze', '--json', '--host', `node1=${dir}/node1.pcapng`, '--host', `node2=${dir}/node2.pcapng`, '--context', `node1=${dir}/node1.context.json`, '--context', `node2=${dir}/node2.context.json`);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { flows: { id: string; attempt?: string; hops?: { interface: string; via?: string; synAcks: number }[] }[] };
  const onPath = report.flows.filter((f) => f.attempt !== undefined);
  assert.ok(onPath.some((f) => f.id.startsWith('node1/')) && onPath.some((f) => f.id.startsWith('node2/')), onPath.map((f) => f.id).join(' '));
  assert.equal(new Set(onPath.map((f) => f.attempt)).size, 1, 'one attempt');
  const hops = onPath[0]!.hops!;
  assert.deepEqual(hops.map((h) => h.interface), ['eth0@node1', 'docker_gwbridge@node1', 'eth0@ingress_sbox@node1', 'eth0@node1', 'eth0@node2', 'eth0@web.1@node2']);
  assert.deepEqual(hops.map((h) => h.via ?? null), [null, null, null, 'vxlan 4096 192.0.2.1 > 192.0.2.2', 'vxlan 4096 192.0.2.1 > 192.0.2.2', null]);
  assert.deepEqual(hops.map((h) => h.synAcks > 0), [false, false, false, false, false, true]);
});

test('the recorded VXLAN loss between two swarm nodes: one finding pointing between the nodes, though node2\'s uplink was quiet by then', async () => {
  const dir = path.join(REPO, 'captures', 'docker-real-swarm-ingress-vxlan-lost');
  const hostArgs = ['--host', `node1=${dir}/node1.pcapng`, '--host', `node2=${dir}/node2.pcapng`, '--context', `node1=${dir}/node1.context.json`, '--context', `node2=${dir}/node2.context.json`];
  const r = await runCli('analyze', '--json', ...hostArgs);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { findings: { code: string; evidence: Record<string, unknown>; remedy: string[]; clients: string[]; clientCount: number }[] };
  assert.deepEqual(report.findings.map((f) => [f.code, f.evidence['seenAt'], f.evidence['missingAt']]), [['nat-path-break', 'eth0@node1', 'eth0@node2']]);
  const finding = report.findings[0]!;
  assert.match(finding.remedy[0]!, /never reached eth0@node2, where a capture sees them before node2's own firewall \(and it reported no drops of its own\): they are lost between the nodes/);
  assert.deepEqual([finding.clients, finding.clientCount], [['192.0.2.10'], 1]);
  // node2 saw nothing after the first request's handshake: only its capture's own start and stop (pcapng statistics) say it was capturing when the SYN should have come.
  const node2 = analyzeFiles([`${dir}/node2.pcapng`], { allFlows: true });
  const lostAt = Math.max(...node2.flows.map((f) => f.lastSeen));
  assert.ok(node2.captureSpans!.some((s) => s.interface === 'eth0' && s.to > lostAt + 1), JSON.stringify(node2.captureSpans));
  const node1 = JSON.parse((await runCli('analyze', '--json', `${dir}/node1.pcapng`, '--context', `${dir}/node1.context.json`)).stdout) as { flows: { outcome: string; firstSeen: string }[]; findings: typeof report.findings };
  const failedAt = Date.parse(node1.flows.find((f) => f.outcome === 'unanswered')!.firstSeen) / 1000;
  assert.ok(lostAt < failedAt, `node2's last packet ${lostAt} before the lost SYN ${failedAt}`);
  // node1 alone: its NAT hops are one attempt from one client (the SNAT address of ingress_sbox is not a client).
  assert.deepEqual(node1.findings.map((f) => [f.code, f.clients, f.clientCount]), [['nat-path-break', ['192.0.2.10'], 1]]);
});

test('the two-node swarm captured with handshakes only (tcp[tcpflags] & tcp-syn != 0): answered attempts are not lost SYN-ACKs, and the spanning verdict is lowered with the nodes\' own', async () => {
  const cut = (node: string) => path.join(REPO, 'test', 'fixtures', 'capture', `docker-real-swarm-ingress-cross-node-${node}-syn-only.pcapng`);
  const dir = path.join(REPO, 'captures', 'docker-real-swarm-ingress-cross-node');
  const r = await runCli('analyze', '--json', '--host', `node1=${cut('node1')}`, '--host', `node2=${cut('node2')}`, '--context', `node1=${dir}/node1.context.json`, '--context', `node2=${dir}/node2.context.json`);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { findings: { code: string; severity: string; confidence: string; explanation: string; evidence: Record<string, unknown> }[] };
  const errors = report.findings.filter((f) => f.severity === 'error');
  // The whole capture's verdict (the SYN-ACK died on node2 between the task and its uplink), one step less sure; no "died between eth0@node1 and the client" for the attempts that were answered.
  assert.deepEqual(errors.map((f) => [f.code, f.confidence, f.evidence['seenAt'], f.evidence['missingAt']]), [['nat-path-break', 'medium', 'eth0@web.1@node2', 'eth0@node2']]);
  assert.match(errors[0]!.explanation, /Confidence lowered: the capture is incomplete/);
});
