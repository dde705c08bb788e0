import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CaptureBackend, PacketSink } from '../src/live/capture-backend';
import { runLiveCapture } from '../src/live/live-capture';
import { TcpFlag } from '../src/decode/packet';
import { buildTcpFrame } from '../src/synth/frames';
import { runCli } from './cli-harness';

/**
 * A capture on two interfaces that see the same frames (docker_gwbridge and ingress_sbox's
 * eth1): each poll takes one handle's batch after the other, so a short connection comes
 * whole from the first handle before its copies from the second. live hands the packets
 * over (and writes them) in time order, so the tracker's copy check sees each copy right
 * after its original: one flow on both interfaces, each segment counted once. Seen on the
 * real-Docker lab (captures/docker-real-swarm-ingress): before, every completed connection
 * there became two flows, and some a retransmission or S2.
 */
test('live on two interfaces: one batch per handle is merged in time order (one flow, seen on both)', async () => {
  const { SYN, ACK, FIN, PSH } = TcpFlag;
  const c = { src: '192.0.2.10', srcPort: 40000, dst: '172.18.0.2', dstPort: 8080 };
  const s = { src: c.dst, srcPort: c.dstPort, dst: c.src, dstPort: c.srcPort };
  const frames = [
    buildTcpFrame({ ...c, seq: 1000, ack: 0, flags: SYN, ipId: 1 }),
    buildTcpFrame({ ...s, seq: 5000, ack: 1001, flags: SYN | ACK }),
    buildTcpFrame({ ...c, seq: 1001, ack: 5001, flags: ACK, ipId: 2 }),
    buildTcpFrame({ ...c, seq: 1001, ack: 5001, flags: PSH | ACK, payloadLength: 18, ipId: 3 }),
    buildTcpFrame({ ...s, seq: 5001, ack: 1019, flags: PSH | ACK, payloadLength: 200 }),
    buildTcpFrame({ ...c, seq: 1019, ack: 5201, flags: FIN | ACK, ipId: 4 }),
    buildTcpFrame({ ...s, seq: 5201, ack: 1020, flags: FIN | ACK }),
    buildTcpFrame({ ...c, seq: 1020, ack: 5202, flags: ACK, ipId: 5 }),
  ];
  const t0 = Math.floor(Date.now() / 1000) - 1;
  // Handle 0 is the bridge, handle 1 the veth behind its port: each copy 3 µs later.
  let opened = 0;
  const backend: CaptureBackend = {
    name: 'native',
    open: (_request, sink: PacketSink) => {
      const lag = opened++ === 0 ? 0 : 3000;
      let done = false;
      return {
        linkType: 1,
        poll: () => {
          if (done) return 0;
          done = true;
          frames.forEach((f, k) => sink(f, 0, f.length, f.length, t0, 100_000 + k * 20_000 + lag));
          return frames.length;
        },
        stats: () => null,
        close: () => undefined,
      };
    },
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-live-merge-'));
  const out = path.join(dir, 'merge.pcapng');
  const self = { path: '/proc/self/ns/net', label: 'sbox' };
  const result = await runLiveCapture(
    {
      targets: [
        { device: 'lo', namespace: null },
        { device: 'lo', namespace: self },
      ],
      backend,
      filter: '',
      snaplen: 256,
      bufferBytes: 1 << 20,
      durationMs: 30,
      write: out,
      analyze: {},
      trace: false,
    },
    new AbortController().signal,
  );
  assert.equal(result.analysis.summary.handshakes.attempted, 1);
  const r = await runCli('analyze', out, '--json', '--all-flows');
  assert.equal(r.code, 0, r.stderr);
  const flows = (JSON.parse(r.stdout) as { flows: { state: string; history: string; syns: number; interfaces: string[] }[] }).flows;
  assert.equal(flows.length, 1, JSON.stringify(flows));
  assert.equal(flows[0]!.state, 'SF');
  assert.equal(flows[0]!.syns, 1);
  assert.deepEqual(flows[0]!.interfaces, ['lo', 'lo@sbox']);
  assert.ok(!/[Tt]/.test(flows[0]!.history), `a copy counted as a retransmission: ${flows[0]!.history}`);
  fs.rmSync(dir, { recursive: true, force: true });
});
