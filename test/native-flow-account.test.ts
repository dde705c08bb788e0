import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles, type Analysis } from '../src/analysis';
import { TcpFlag } from '../src/decode/packet';
import { buildTcpFrame } from '../src/synth/frames';
import { writeFramesPcap, type Frame } from './frames-pcap';
import { runStages } from './stage-harness';
import { tempDir } from './temp-dir';

/**
 * What is kept of each flow as it leaves the native tracker, counted and recorded in C
 * (native/src/engine/flow-account.c), against TrackStage.onFlow in JavaScript: the counts,
 * the attempt log, the stitcher, the /24 census and the completed attempts per service, past
 * every one of their bounds. (Every stored scenario, fixture and cut is compared whole in
 * native-analysis.test.ts.)
 */

const SERVER = '192.168.1.1';
const SERVER_MAC = '02:aa:00:00:00:01';
const CLIENT_MAC = '02:bb:00:00:00:01';

function tcp(src: string, dst: string, srcPort: number, dstPort: number, seq: number, ack: number, flags: number, tsVal?: number): Buffer {
  const toServer = dst.startsWith('192.168.1.') || dst.startsWith('fd00::1:');
  return buildTcpFrame({ src, dst, srcMac: toServer ? CLIENT_MAC : SERVER_MAC, dstMac: toServer ? SERVER_MAC : CLIENT_MAC, srcPort, dstPort, seq, ack, flags, ...(tsVal !== undefined && { options: { mss: 1460, tsVal } }) });
}

/**
 * More attempts than the attempt log and the stitcher record (262,144), from more /24s than
 * the census keeps (65,536), to more services than the stitcher names (65,536); completed,
 * refused, late-answered and IPv6 ones among them, and SYN-ACKs without a SYN.
 */
function accountFrames(): Frame[] {
  const frames: Frame[] = [];
  let at = 1_700_000_000;
  for (let i = 0; i < 270_000; i++) {
    const client = `11.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
    const clientBig = `10.${(i >> 8) & 0xff}.${i & 0xff}.9`;
    const src = i % 3 === 0 ? clientBig : client;
    // 70,000 services: 60,000 ports on one server, the rest on a second.
    const service = i % 70_000;
    const server = service < 60_000 ? SERVER : '192.168.1.2';
    const port = 1024 + (service % 60_000);
    const sport = 20_000 + (i % 40_000);
    const isn = (i * 2654435761) >>> 0;
    frames.push({ data: tcp(src, server, sport, port, isn, 0, TcpFlag.SYN, (i * 7) >>> 0), at: (at += 0.0001) });
    if (i % 50 === 0) {
      frames.push({ data: tcp(server, src, port, sport, 1000 + i, isn + 1, TcpFlag.SYN | TcpFlag.ACK), at: (at += 0.0001) });
      frames.push({ data: tcp(src, server, sport, port, isn + 1, 1001 + i, TcpFlag.ACK), at: (at += 0.0001) });
      if (i % 200 === 0) frames.push({ data: tcp(server, src, port, sport, 1001 + i, isn + 1, TcpFlag.FIN | TcpFlag.ACK), at: (at += 0.0001) });
    } else if (i % 97 === 0) {
      frames.push({ data: tcp(server, src, port, sport, 0, isn + 1, TcpFlag.RST | TcpFlag.ACK), at: (at += 0.0001) });
    }
  }
  for (let i = 0; i < 3000; i++) {
    const src = `fd00::2:${(i % 40) + 1}`;
    const dst = `fd00::1:${(i % 3) + 1}`;
    const isn = (i * 40503) >>> 0;
    frames.push({ data: tcp(src, dst, 30_000 + i, 443, isn, 0, TcpFlag.SYN, i * 11), at: (at += 0.001) });
    if (i % 4 === 0) {
      frames.push({ data: tcp(dst, src, 443, 30_000 + i, 5000 + i, isn + 1, TcpFlag.SYN | TcpFlag.ACK), at: (at += 0.0001) });
      frames.push({ data: tcp(src, dst, 30_000 + i, 443, isn + 1, 5001 + i, TcpFlag.ACK), at: (at += 0.0001) });
    }
  }
  // Answered only after a retransmitted SYN (late answers), and SYN-ACKs without a SYN.
  for (let i = 0; i < 30; i++) {
    const src = `172.16.0.${i + 1}`;
    frames.push({ data: tcp(src, SERVER, 40_000 + i, 80, 77 + i, 0, TcpFlag.SYN), at: (at += 0.01) });
    frames.push({ data: tcp(src, SERVER, 40_000 + i, 80, 77 + i, 0, TcpFlag.SYN), at: (at += 1.0) });
    frames.push({ data: tcp(SERVER, src, 80, 40_000 + i, 900 + i, 78 + i, TcpFlag.SYN | TcpFlag.ACK), at: (at += 0.001) });
    frames.push({ data: tcp(src, SERVER, 40_000 + i, 80, 78 + i, 901 + i, TcpFlag.ACK), at: (at += 0.001) });
    frames.push({ data: tcp(SERVER, `172.17.0.${i + 1}`, 80, 50_000 + i, 300 + i, 12, TcpFlag.SYN | TcpFlag.ACK), at: (at += 0.01) });
  }
  return frames;
}

function kept(files: readonly string[], native: boolean): unknown {
  const { track, evidence, log } = runStages(files, native);
  return {
    flows: track.flowCount,
    handshakes: track.handshakes,
    synAckWithoutSyn: [track.synAckWithoutSyn, track.synAckWithoutSynExamples],
    oneSided: track.oneSidedFlows,
    completedByService: [...track.completedByService],
    lateAnswered: track.lateAnswered.map((f) => f.id),
    failed: [track.failed.count, track.failed.list()],
    networks: [...evidence.seenAddresses()],
    peerSyns: log.peerSyns(),
    clientClocks: log.clientClocks(new Set()),
    logNotRecorded: log.notRecorded,
    stitcherNotRecorded: track.stitcher.notRecorded,
    stitched: track.stitcher.groups(),
    stitchServers: track.stitcher.servers,
  };
}

function comparable(a: Analysis): unknown {
  return JSON.parse(JSON.stringify(a, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v instanceof Set ? [...v] : v)));
}

test('the engine keeps of each flow what JavaScript keeps, past every bound', () => {
  const file = path.join(tempDir('synscope-flow-account-'), 'attempts.pcap');
  writeFramesPcap(file, accountFrames());
  const js = kept([file], false) as ReturnType<typeof kept> & Record<string, unknown>;
  assert.deepEqual(kept([file], true), js);
  // The file reaches what it is for.
  const { track, evidence, log } = runStages([file], true);
  assert.ok(log.notRecorded > 0 && track.stitcher.notRecorded > 0, `not recorded: log ${log.notRecorded}, stitcher ${track.stitcher.notRecorded}`);
  assert.equal(evidence.seenAddresses().size, 65536);
  assert.ok(track.completedByService.size > 1000 && track.handshakes.rejected > 1000, `${track.completedByService.size} services, ${track.handshakes.rejected} refused`);
  assert.ok(track.lateAnswered.length >= 30 && track.synAckWithoutSyn >= 30 && track.synAckWithoutSynExamples.length === 10);
  assert.ok(log.peerSyns().length > 0, 'pairs with an unanswered attempt and one the server closed');
  assert.deepEqual(comparable(analyzeFiles([file], { nativeTracker: true })), comparable(analyzeFiles([file], { nativeTracker: false })));
});
