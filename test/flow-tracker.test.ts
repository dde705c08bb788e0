/**
 * Flow tracker unit tests with hand-built DecodedPacket sequences (no decoder involved).
 * Expected states and histories follow Zeek's rules (TCPSessionAdapter.cc, conn main.zeek).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecodedPacket, Transport, TcpFlag } from '../src/decode/packet';
import type { Flow } from '../src/flow/flow';
import { FlowTracker, type FlowTrackerOptions } from '../src/flow/tracker';
import { tupleHash } from '../src/flow/flow-table';

const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

function v4(text: string): Uint32Array {
  const p = text.split('.').map(Number);
  return new Uint32Array([0, 0, 0xffff, ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0]);
}

function v6(words: number[]): Uint32Array {
  return new Uint32Array(words);
}

interface Seg {
  t: number;
  src: Uint32Array;
  sport: number;
  dst: Uint32Array;
  dport: number;
  flags: number;
  seq: number;
  ack?: number;
  len?: number;
  win?: number;
  v?: 4 | 6;
  iface?: number;
  /** TCP option bytes (put at the start of the buffer handed to the tracker). */
  opts?: number[];
}

/** SYN options used by the option test: MSS 1460, SACK-permitted, TS 1000/0, NOP, WS 7. */
const LINUX_SYN_OPTS = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 1, 3, 3, 7];

class Harness {
  readonly flows: Flow[] = [];
  readonly tracker: FlowTracker;
  readonly pkt = new DecodedPacket();
  maxSize = 0;

  constructor(opts: Partial<FlowTrackerOptions> = {}) {
    this.tracker = new FlowTracker({ onFlow: (f) => this.flows.push(f), ...opts });
  }

  seg(s: Seg): this {
    const p = this.pkt;
    p.reset(0, 0);
    p.ipVersion = s.v ?? 4;
    p.src.set(s.src);
    p.dst.set(s.dst);
    p.transport = Transport.TCP;
    p.ipProto = 6;
    p.srcPort = s.sport;
    p.dstPort = s.dport;
    p.tcpFlags = s.flags;
    p.seq = s.seq >>> 0;
    p.ack = (s.ack ?? 0) >>> 0;
    p.payloadLength = s.len ?? 0;
    p.window = s.win ?? 65535;
    p.ttl = 64;
    p.ipId = 4242;
    const buf = Buffer.from(s.opts ?? []);
    p.tcpOptionsOffset = 0;
    p.tcpOptionsLength = buf.length;
    this.tracker.add(p, buf, s.t, s.iface ?? 0);
    this.maxSize = Math.max(this.maxSize, this.tracker.size);
    return this;
  }

  /** ICMP error from `from` quoting the header client -> server with sequence `qseq`. */
  icmp(t: number, from: Uint32Array, client: Uint32Array, cport: number, server: Uint32Array, sport: number, qseq: number, type: number, code: number): this {
    const p = this.pkt;
    p.reset(0, 0);
    p.ipVersion = 4;
    p.src.set(from);
    p.dst.set(client);
    p.transport = Transport.ICMP;
    p.icmpType = type;
    p.icmpCode = code;
    p.icmpQuotesTcp = true;
    p.quotedIpVersion = 4;
    p.quotedSrc.set(client);
    p.quotedDst.set(server);
    p.quotedSrcPort = cport;
    p.quotedDstPort = sport;
    p.quotedSeq = qseq;
    this.tracker.add(p, Buffer.alloc(0), t, 0);
    return this;
  }

  done(): Flow[] {
    this.tracker.finish();
    return this.flows;
  }
}

const C = v4('10.0.0.1');
const S = v4('192.0.2.80');
const CP = 40000;
const SP = 8080; // not a likely server port: orientation comes from the packets

/** A full handshake, one data exchange each way and a FIN close. */
function sf(h: Harness, t0: number, cport = CP, isn = 1000, sisn = 5000): void {
  h.seg({ t: t0, src: C, sport: cport, dst: S, dport: SP, flags: SYN, seq: isn })
    .seg({ t: t0 + 0.001, src: S, sport: SP, dst: C, dport: cport, flags: SYN | ACK, seq: sisn, ack: isn + 1 })
    .seg({ t: t0 + 0.002, src: C, sport: cport, dst: S, dport: SP, flags: ACK, seq: isn + 1, ack: sisn + 1 })
    .seg({ t: t0 + 0.003, src: C, sport: cport, dst: S, dport: SP, flags: ACK | PSH, seq: isn + 1, ack: sisn + 1, len: 10 })
    .seg({ t: t0 + 0.004, src: S, sport: SP, dst: C, dport: cport, flags: ACK, seq: sisn + 1, ack: isn + 11 })
    .seg({ t: t0 + 0.005, src: S, sport: SP, dst: C, dport: cport, flags: ACK | PSH, seq: sisn + 1, ack: isn + 11, len: 20 })
    .seg({ t: t0 + 0.006, src: C, sport: cport, dst: S, dport: SP, flags: FIN | ACK, seq: isn + 11, ack: sisn + 21 })
    .seg({ t: t0 + 0.007, src: S, sport: SP, dst: C, dport: cport, flags: FIN | ACK, seq: sisn + 21, ack: isn + 12 })
    .seg({ t: t0 + 0.008, src: C, sport: cport, dst: S, dport: SP, flags: ACK, seq: isn + 12, ack: sisn + 22 });
}

test('S0: SYN retransmissions stay in one flow by default', () => {
  const h = new Harness();
  for (const t of [0, 1, 3, 7, 15, 31, 63]) h.seg({ t: 100 + t, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 777 });
  const flows = h.done();
  assert.equal(flows.length, 1);
  const f = flows[0]!;
  assert.equal(f.state, 'S0');
  assert.equal(f.history, 'S');
  assert.equal(f.syns, 7);
  assert.equal(f.origPackets, 7);
  assert.equal(f.outcome, 'unanswered');
  assert.equal(f.isn, 777);
  assert.equal(f.firstSynAt, 100);
  assert.equal(f.lastSeen, 163);
  assert.equal(f.clientIp, '10.0.0.1');
  assert.equal(f.serverIp, '192.0.2.80');
});

test('S0 with zeekTimers: tcp_attempt_delay splits the retransmissions', () => {
  const h = new Harness({ zeekTimers: true });
  for (const t of [0, 1, 3, 7]) h.seg({ t: 100 + t, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 777 });
  const flows = h.done();
  assert.deepEqual(flows.map((f) => [f.state, f.history, f.syns]), [['S0', 'S', 3], ['S0', 'S', 1]]);
});

test('SF: full handshake and FIN close; completed', () => {
  const h = new Harness();
  sf(h, 10);
  const [f] = h.done();
  assert.equal(f!.state, 'SF');
  assert.equal(f!.history, 'ShADadFf');
  assert.equal(f!.outcome, 'completed');
  assert.equal(f!.synAcks, 1);
  assert.equal(f!.firstSynAckAt, 10.001);
  assert.equal(f!.origPackets, 5);
  assert.equal(f!.respPackets, 4);
});

test('SYN options, IP id and TTL come from the first SYN', () => {
  const h = new Harness();
  h.seg({ t: 1, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1, opts: LINUX_SYN_OPTS });
  const [f] = h.done();
  assert.deepEqual(f!.synOptions, { mss: 1460, windowScale: 7, sackPermitted: true, tsVal: 1000, tsEcr: 0 });
  assert.equal(f!.synIpId, 4242);
  assert.equal(f!.synTtl, 64);
});

test('REJ: SYN answered by RST-ACK; rejected by the server; a retransmitted SYN is a new conn', () => {
  const h = new Harness();
  h.seg({ t: 1, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 50 })
    .seg({ t: 1.001, src: S, sport: SP, dst: C, dport: CP, flags: RST | ACK, seq: 0, ack: 51 })
    .seg({ t: 1.5, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 50 })
    .seg({ t: 1.501, src: S, sport: SP, dst: C, dport: CP, flags: RST | ACK, seq: 0, ack: 51 });
  const flows = h.done();
  assert.equal(flows.length, 2);
  for (const f of flows) {
    assert.equal(f.state, 'REJ');
    assert.equal(f.history, 'Sr');
    assert.equal(f.outcome, 'rejected');
    assert.deepEqual(f.rejection, { by: 'rst', from: '192.0.2.80', icmpType: null, icmpCode: null });
  }
});

test('RSTO: established, then the originator aborts', () => {
  const h = new Harness();
  h.seg({ t: 1, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1 })
    .seg({ t: 1.1, src: S, sport: SP, dst: C, dport: CP, flags: SYN | ACK, seq: 9, ack: 2 })
    .seg({ t: 1.2, src: C, sport: CP, dst: S, dport: SP, flags: ACK, seq: 2, ack: 10 })
    .seg({ t: 1.3, src: C, sport: CP, dst: S, dport: SP, flags: RST | ACK, seq: 2, ack: 10 });
  const [f] = h.done();
  assert.equal(f!.state, 'RSTO');
  assert.equal(f!.history, 'ShAR');
  assert.equal(f!.outcome, 'completed');
});

test('RSTOS0: SYN then originator RST, no SYN-ACK', () => {
  const h = new Harness();
  h.seg({ t: 1, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1 })
    .seg({ t: 2, src: C, sport: CP, dst: S, dport: SP, flags: RST, seq: 2 });
  const [f] = h.done();
  assert.equal(f!.state, 'RSTOS0');
  assert.equal(f!.history, 'SR');
  assert.equal(f!.outcome, 'unanswered');
});

test('SH: SYN then FIN from the originator, nothing back', () => {
  const h = new Harness();
  h.seg({ t: 1, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1 })
    .seg({ t: 2, src: C, sport: CP, dst: S, dport: SP, flags: FIN | ACK, seq: 2, ack: 1 });
  const [f] = h.done();
  assert.equal(f!.state, 'SH');
  assert.equal(f!.history, 'SF');
});

test('SHR: only the server side captured (SYN-ACK from a likely server port, then FIN): flipped', () => {
  const h = new Harness();
  h.seg({ t: 1, src: S, sport: 80, dst: C, dport: CP, flags: SYN | ACK, seq: 9, ack: 2 })
    .seg({ t: 2, src: S, sport: 80, dst: C, dport: CP, flags: FIN | ACK, seq: 10, ack: 2 });
  const [f] = h.done();
  assert.equal(f!.state, 'SHR');
  assert.equal(f!.history, '^hf');
  assert.equal(f!.clientIp, '10.0.0.1');
  assert.equal(f!.serverPort, 80);
  assert.equal(f!.outcome, null);
});

test('SYN-ACK captured before the SYN: Zeek flips on the SYN (history Hs^)', () => {
  const h = new Harness({ likelyServerPorts: [] });
  h.seg({ t: 1, src: S, sport: SP, dst: C, dport: CP, flags: SYN | ACK, seq: 9, ack: 101 })
    .seg({ t: 1.0001, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 100 })
    .seg({ t: 1.001, src: C, sport: CP, dst: S, dport: SP, flags: ACK, seq: 101, ack: 10 });
  const [f] = h.done();
  assert.equal(f!.history, 'Hs^A');
  assert.equal(f!.state, 'S1');
  assert.equal(f!.clientIp, '10.0.0.1');
  assert.equal(f!.outcome, 'completed');
  assert.equal(f!.syns, 1);
  assert.equal(f!.synAcks, 1);
});

test('SYN-ACK first, then an ACK, on unknown ports: flipped as if from the start (^hA)', () => {
  const h = new Harness({ likelyServerPorts: [] });
  h.seg({ t: 1, src: S, sport: SP, dst: C, dport: CP, flags: SYN | ACK, seq: 9, ack: 101 })
    .seg({ t: 1.001, src: C, sport: CP, dst: S, dport: SP, flags: ACK, seq: 101, ack: 10 });
  const [f] = h.done();
  assert.equal(f!.history, '^hA');
  assert.equal(f!.state, 'S1');
  assert.equal(f!.clientIp, '10.0.0.1');
});

test('synAckLost: SYN-ACKs come back, the client keeps retransmitting its SYN', () => {
  const h = new Harness();
  for (const t of [0, 1, 3]) {
    h.seg({ t, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 100 });
    h.seg({ t: t + 0.001, src: S, sport: SP, dst: C, dport: CP, flags: SYN | ACK, seq: 9, ack: 101 });
  }
  const [f] = h.done();
  assert.equal(f!.outcome, 'synAckLost');
  assert.equal(f!.syns, 3);
  assert.equal(f!.synAcks, 3);
  assert.equal(f!.history, 'Sh');
  assert.equal(f!.state, 'S1');
});

test('ICMP error quoting the client SYN rejects the attempt; one quoting another seq does not', () => {
  const h = new Harness();
  const router = v4('198.51.100.1');
  h.seg({ t: 1, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 4000 })
    .icmp(1.01, router, C, CP, S, SP, 3999, 3, 13)
    .seg({ t: 2, src: C, sport: CP + 1, dst: S, dport: SP, flags: SYN, seq: 70 })
    .icmp(2.01, router, C, CP + 1, S, SP, 70, 3, 13);
  const flows = h.done();
  assert.equal(flows.length, 2);
  assert.equal(flows[0]!.outcome, 'unanswered');
  assert.equal(flows[1]!.outcome, 'rejected');
  assert.deepEqual(flows[1]!.rejection, { by: 'icmp', from: '198.51.100.1', icmpType: 3, icmpCode: 13 });
  assert.equal(flows[1]!.state, 'S0');
});

test('sequence numbers wrap: no false retransmission, a real one after the wrap is counted', () => {
  const h = new Harness();
  const isn = 0xfffffff0;
  const s = (n: number) => (isn + n) >>> 0;
  h.seg({ t: 1, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: isn })
    .seg({ t: 1.1, src: S, sport: SP, dst: C, dport: CP, flags: SYN | ACK, seq: 7, ack: s(1) })
    .seg({ t: 1.2, src: C, sport: CP, dst: S, dport: SP, flags: ACK, seq: s(1), ack: 8 });
  for (let i = 0; i < 4; i++) {
    h.seg({ t: 1.3 + i / 10, src: C, sport: CP, dst: S, dport: SP, flags: ACK | PSH, seq: s(1 + 10 * i), ack: 8, len: 10 });
  }
  h.seg({ t: 2, src: S, sport: SP, dst: C, dport: CP, flags: ACK, seq: 8, ack: s(41) });
  assert.equal(h.tracker.size, 1);
  // Retransmit the segment that starts after the wrap.
  h.seg({ t: 2.5, src: C, sport: CP, dst: S, dport: SP, flags: ACK | PSH, seq: s(31), ack: 8, len: 10 });
  h.seg({ t: 3, src: C, sport: CP, dst: S, dport: SP, flags: FIN | ACK, seq: s(41), ack: 8 })
    .seg({ t: 3.1, src: S, sport: SP, dst: C, dport: CP, flags: FIN | ACK, seq: 8, ack: s(42) });
  const flow = h.done()[0]!;
  assert.equal(flow.history, 'ShADaTFf');
  assert.equal(flow.state, 'SF');
});

test('IPv6: SF, canonical compressed addresses', () => {
  const h = new Harness();
  const c6 = v6([0x20010db8, 0, 0, 1]);
  const s6 = v6([0x20010db8, 0, 0, 2]);
  h.seg({ t: 1, v: 6, src: c6, sport: CP, dst: s6, dport: 443, flags: SYN, seq: 1 })
    .seg({ t: 1.1, v: 6, src: s6, sport: 443, dst: c6, dport: CP, flags: SYN | ACK, seq: 9, ack: 2 })
    .seg({ t: 1.2, v: 6, src: c6, sport: CP, dst: s6, dport: 443, flags: ACK, seq: 2, ack: 10 })
    .seg({ t: 1.3, v: 6, src: c6, sport: CP, dst: s6, dport: 443, flags: FIN | ACK, seq: 2, ack: 10 })
    .seg({ t: 1.4, v: 6, src: s6, sport: 443, dst: c6, dport: CP, flags: FIN | ACK, seq: 10, ack: 3 });
  const [f] = h.done();
  assert.equal(f!.ipVersion, 6);
  assert.equal(f!.clientIp, '2001:db8::1');
  assert.equal(f!.serverIp, '2001:db8::2');
  assert.equal(f!.state, 'SF');
  assert.equal(f!.history, 'ShAFf');
});

test('interfaces are listed in first-seen order', () => {
  const h = new Harness();
  h.seg({ t: 1, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1, iface: 2 })
    .seg({ t: 1.5, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1, iface: 0 })
    .seg({ t: 2, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1, iface: 2 });
  const flows = h.done();
  assert.equal(flows.length, 1);
  assert.deepEqual(flows[0]!.interfaces, [2, 0]);
});

test('flow table hash is symmetric', () => {
  assert.equal(tupleHash(C, CP, S, SP), tupleHash(S, SP, C, CP));
  assert.notEqual(tupleHash(C, CP, S, SP), tupleHash(C, CP + 1, S, SP));
});

test('memory stays bounded over a long stream of short connections, and eviction changes nothing', () => {
  const run = (opts: Partial<FlowTrackerOptions>) => {
    const h = new Harness(opts);
    // 20,000 connections, 1,000 per second: with a 5 s close delay about 5,000 are held.
    for (let i = 0; i < 20000; i++) sf(h, 1000 + i / 1000, 1024 + (i % 60000), 1000 + i, 7000 + i);
    // and some attempts nobody answers, retried on Linux's schedule
    for (let i = 0; i < 50; i++) {
      for (const d of [0, 1, 3, 7, 15, 31, 63]) {
        h.seg({ t: 1000 + i * 0.4 + d, src: v4('10.9.0.' + (i + 1)), sport: 5555, dst: S, dport: SP, flags: SYN, seq: 9 });
      }
    }
    return { flows: h.done(), max: h.maxSize };
  };
  const evicting = run({});
  const keeping = run({ closeDelay: Infinity, idleTimeout: Infinity, attemptIdleTimeout: Infinity });
  assert.ok(evicting.max < 7000, `held ${evicting.max} flows`);
  assert.ok(keeping.max > 20000, 'the control run must keep everything');
  const norm = (fs: Flow[]) => fs.map((f) => JSON.stringify(f)).sort();
  assert.deepEqual(norm(evicting.flows), norm(keeping.flows));
  assert.equal(evicting.flows.filter((f) => f.state === 'SF').length, 20000);
  assert.equal(evicting.flows.filter((f) => f.outcome === 'unanswered' && f.syns === 7).length, 50);
});

test('one frame seen on a bridge and on the veth behind its port counts once; a retransmission still counts', () => {
  // Seven SYNs, each captured on docker_gwbridge (1) and 20 µs later on ingress_sbox's eth1 (2),
  // the server never answering: 7 SYNs, not 14; the flow lists both interfaces.
  const h = new Harness();
  for (const at of [0, 1, 3, 7, 15, 31, 63]) {
    h.seg({ t: at, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1, iface: 1 })
      .seg({ t: at + 0.00002, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1, iface: 2 });
  }
  const [f] = h.done();
  assert.equal(f!.syns, 7);
  assert.deepEqual(f!.interfaces, [1, 2]);
  assert.equal(f!.history, 'S');

  // The same segment again on the same interface within the window is a duplicate the
  // network made, and a segment on another interface after the window is a retransmission.
  const g = new Harness()
    .seg({ t: 0, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1, iface: 1 })
    .seg({ t: 0.001, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1, iface: 1 })
    .seg({ t: 1, src: C, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1, iface: 2 })
    .done();
  assert.equal(g[0]!.syns, 3);
});

test('a full table ends the flow nearest its deadline early: retransmitted SYNs of ended attempts are no new attempts, late answers are counted', () => {
  const h = new Harness({ maxLiveFlows: 4 });
  const clients = Array.from({ length: 10 }, (_, i) => v4(`10.9.0.${i + 1}`));
  clients.forEach((c, i) => h.seg({ t: i * 0.01, src: c, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1000 + i }));
  // Every attempt retransmits its SYN a second later; the first six were ended early by then.
  clients.forEach((c, i) => h.seg({ t: 1 + i * 0.01, src: c, sport: CP, dst: S, dport: SP, flags: SYN, seq: 1000 + i }));
  // The server answers the first one after all: its outcome was already decided.
  h.seg({ t: 2, src: S, sport: SP, dst: clients[0]!, dport: CP, flags: SYN | ACK, seq: 5000, ack: 1001 });
  const flows = h.done();
  assert.ok(h.maxSize <= 4, `held ${h.maxSize} flows`);
  const attempts = flows.filter((f) => f.outcome !== null);
  assert.equal(attempts.length, 10, 'one attempt per client, however often it retransmitted');
  assert.ok(attempts.every((f) => f.outcome === 'unanswered'));
  const p = h.tracker.pressure;
  assert.ok(p.endedEarly >= 6, `ended early: ${p.endedEarly}`);
  assert.equal(attempts.reduce((n, f) => n + f.syns, 0) + p.synRetransmissionsAfter, 20, 'every SYN counted once, in its flow or as a retransmission after');
  assert.equal(p.answersAfter, 1);
});

test('below the flow limit nothing is ended early', () => {
  const h = new Harness({ maxLiveFlows: 16 });
  for (let i = 0; i < 10; i++) h.seg({ t: i * 0.01, src: v4(`10.9.1.${i + 1}`), sport: CP, dst: S, dport: SP, flags: SYN, seq: i });
  for (let i = 0; i < 10; i++) h.seg({ t: 1 + i * 0.01, src: v4(`10.9.1.${i + 1}`), sport: CP, dst: S, dport: SP, flags: SYN, seq: i });
  const flows = h.done();
  assert.equal(h.tracker.pressure.endedEarly, 0);
  assert.deepEqual(flows.map((f) => f.syns), Array(10).fill(2));
});
