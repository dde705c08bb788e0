/**
 * Decode speed: one Ethernet/IPv4/TCP SYN with options (zeek/tcp__syn.pcap) decoded
 * 10M times into one reused DecodedPacket. Prints wall and CPU ns/packet per round.
 * Run: npx tsc -p tsconfig.json && node dist/bench/decode-speed.js [packets]
 */
import { decodeFrame } from '../src/decode/dispatch';
import { DecodedPacket } from '../src/decode/packet';

const SYN = Buffer.from(
  '0010db88d2efc8bcc896d2a008004500' +
    '0040df8e400040066dd38d8ee405c096' +
    'bb2be9d00050fe21323a00000000b002' +
    'ffff3bc00000020405b4010303040101' +
    '080a164add20000000000402' +
    '0000',
  'hex',
);

function decodeMany(pkt: DecodedPacket, count: number): number {
  let check = 0;
  for (let i = 0; i < count; i++) {
    decodeFrame(1, SYN, 0, SYN.length, pkt);
    check += pkt.srcPort;
  }
  return check;
}

const packets = Number(process.argv[2] ?? 10_000_000);
const pkt = new DecodedPacket();
for (let i = 0; i < 1000; i++) decodeMany(pkt, 1000); // warm up: optimize decodeMany as a whole, not just its loop (OSR)
for (let round = 1; round <= 3; round++) {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const check = decodeMany(pkt, packets);
  const wall = Number(process.hrtime.bigint() - t0) / packets;
  const cpuUsed = process.cpuUsage(cpu0);
  const cpu = ((cpuUsed.user + cpuUsed.system) * 1000) / packets;
  if (check !== packets * 59856 || pkt.problem !== 0) throw new Error('decoded the wrong thing');
  console.log(`round ${round}: ${packets} packets, ${wall.toFixed(1)} ns/packet wall, ${cpu.toFixed(1)} ns/packet CPU`);
}
