/**
 * Writes a SYN-flood capture: N first SYNs from distinct clients to one service, none
 * answered (or, with --answered, every second one answered by a SYN-ACK and the client's
 * ACK). Clients are consecutive addresses from 10.64.0.0 (a few thousand /24s), or with
 * --spoofed random addresses (a flood from spoofed sources: about one /24 per SYN).
 *
 *   node dist/bench/flood-capture.js --syns 1000000 --out bench/out/flood-1000000.pcap [--spoofed] [--answered]
 *
 * SYNs arrive at 100,000 per second, so a million span 10 s of capture.
 */
import { parseArgs } from 'node:util';
import { FileSink } from '../src/capture/byte-sink';
import { PcapWriter } from '../src/capture/pcap-writer';
import { TcpFrameWriter } from '../src/synth/frames';
import { Prng } from '../src/synth/prng';

const SYN = 0x02;
const ACK = 0x10;
const LINKTYPE_ETHERNET = 1;
const SYNS_PER_SECOND = 100_000;
const FIRST_CLIENT = (10 << 24) | (64 << 16);
const START_SECONDS = 1_767_225_600;

export interface FloodSpec {
  syns: number;
  out: string;
  spoofed: boolean;
  answered: boolean;
  /** SYNs per second of capture time (default 100,000). */
  synsPerSecond?: number;
}

export function writeFloodCapture(spec: FloodSpec): void {
  const sink = new FileSink(spec.out);
  const pcap = new PcapWriter(sink, { linkType: LINKTYPE_ETHERNET, nanosecond: true });
  const frame = new TcpFrameWriter();
  const buf = Buffer.alloc(256);
  const random = new Prng(7);
  frame.mss = 1460;
  frame.windowScale = 7;
  frame.sackPermitted = true;
  frame.timestamps = true;
  const server = [192, 0, 2, 10];
  const emit = (at: number) => {
    const len = frame.write(buf, 0);
    const sec = Math.floor(at);
    pcap.writePacket(buf.subarray(0, len), START_SECONDS + sec, Math.round((at - sec) * 1e9));
  };
  for (let i = 0; i < spec.syns; i++) {
    const client = spec.spoofed ? (random.nextUint32() | 0x01000000) >>> 0 : (FIRST_CLIENT + i) >>> 0;
    const at = i / (spec.synsPerSecond ?? SYNS_PER_SECOND);
    const port = 32768 + (i % 28000);
    const isn = random.nextUint32();
    frame.src.set([client >>> 24, (client >>> 16) & 255, (client >>> 8) & 255, client & 255]);
    frame.dst.set(server);
    frame.srcPort = port;
    frame.dstPort = 443;
    frame.seq = isn;
    frame.ack = 0;
    frame.flags = SYN;
    frame.tsVal = (i * 7) >>> 0;
    frame.tsEcr = 0;
    emit(at);
    if (!spec.answered || i % 2 === 1) continue;
    frame.dst.set(frame.src.subarray(0, 4));
    frame.src.set(server);
    frame.srcPort = 443;
    frame.dstPort = port;
    frame.seq = 1000;
    frame.ack = (isn + 1) >>> 0;
    frame.flags = SYN | ACK;
    emit(at + 0.0001);
    frame.src.set(frame.dst.subarray(0, 4));
    frame.dst.set(server);
    frame.srcPort = port;
    frame.dstPort = 443;
    frame.seq = (isn + 1) >>> 0;
    frame.ack = 1001;
    frame.flags = ACK;
    frame.mss = -1;
    frame.windowScale = -1;
    frame.sackPermitted = false;
    emit(at + 0.0002);
    frame.mss = 1460;
    frame.windowScale = 7;
    frame.sackPermitted = true;
  }
  pcap.close();
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      syns: { type: 'string', default: '1000000' },
      out: { type: 'string' },
      spoofed: { type: 'boolean', default: false },
      answered: { type: 'boolean', default: false },
    },
  });
  const syns = Number(values.syns);
  if (!Number.isInteger(syns) || syns <= 0) throw new Error(`--syns must be a positive integer, got ${values.syns}`);
  writeFloodCapture({ syns, out: values.out ?? `bench/out/flood-${syns}.pcap`, spoofed: values.spoofed === true, answered: values.answered === true });
}
