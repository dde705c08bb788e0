import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame } from '../src/decode/dispatch';
import { SUPPORTED_LINK_TYPES } from '../src/decode/link-types';
import { DecodedPacket, TcpFlag, Transport } from '../src/decode/packet';
import type { FlowView } from '../src/flow/flow-view';
import { NativeFlowTracker } from '../src/flow/native-tracker';
import { FlowTracker } from '../src/flow/tracker';
import { Prng } from '../src/synth/prng';
import { corpus, readPcapFrames } from './decode-helpers';
import { ETHERNET_SYN, ICMP4_UNREACH, ICMP6_UNREACH, VXLAN_SYN } from './decode-fixtures';

/**
 * Hostile frames through the C decoder and tracker: mutated and cut real frames of every link
 * type must neither crash the process nor track differently from the JS tracker, and a frame
 * the engine says JavaScript need not decode must be one whose only uses are the tracker's and
 * the frame evidence C keeps (decoded without problem, TCP or an ICMP error quoting TCP, not
 * a handshake packet with a VXLAN leg or an IPv6 source MAC, not a cooked v2 frame the host
 * sent): that is what lets `analyze` skip decoding it.
 */

const SEED_FILES = [
  'zeek/http__connect-with-header.pcap',
  'zeek/tls__pop3-starttls.pcap',
  'zeek/pppoe-over-qinq.pcap',
  'zeek/mixed-vlan-mpls.pcap',
  'tcpdump/802.1ad_QinQ.pcap',
  'tcpdump/ipv6-routing-header.pcap',
  'zeek/ftp__ipv6.pcap',
  'zeek/rotation.pcap',
  'tcpdump/LINKTYPE_RAW_ipv6.pcap',
  'zeek/tls__irc-starttls.pcap',
  'tcpdump/LINKTYPE_IPV4.pcap',
  'tcpdump/LINKTYPE_IPV6.pcap',
  'zeek/tls__openjdk-25.0.2-zeek.org.pcap',
  'zeek/linux_dlt_sll2.pcap',
];

function seeds(): { linkType: number; data: Buffer }[] {
  const out: { linkType: number; data: Buffer }[] = [];
  for (const file of SEED_FILES) out.push(...readPcapFrames(corpus(file)).slice(0, 40));
  for (const data of [ETHERNET_SYN, ICMP4_UNREACH, ICMP6_UNREACH, VXLAN_SYN]) out.push({ linkType: 1, data });
  return out;
}

const SLL_OUTGOING = 4;

test('mutated and cut frames of every link type: no crash, the same flows as the JS tracker, and no frame skipped that JavaScript needs', () => {
  const frames = seeds();
  for (const lt of SUPPORTED_LINK_TYPES.filter((t) => t !== 108 && t !== 0)) assert.ok(frames.some((f) => f.linkType === lt), `a seed of link type ${lt}`);
  const random = new Prng(11);
  const js: string[] = [];
  const c: string[] = [];
  const describe = (out: string[]) => (v: FlowView) => out.push(JSON.stringify(v.toFlow()));
  const jsTracker = new FlowTracker({ onFlowView: describe(js), maxLiveFlows: 200 });
  const cTracker = new NativeFlowTracker({ onFlowView: describe(c), maxLiveFlows: 200, batchPackets: 256 });
  const pkt = new DecodedPacket();
  let skipped = 0;
  const wrongSkips: string[] = [];
  cTracker.afterBatch = (batch) => {
    for (let k = 0; k < batch.count; k++) {
      if (batch.needs[k] !== 0) continue;
      skipped++;
      const buf = batch.buffers[batch.bufferOf[k]!]!;
      decodeFrame(batch.linkTypes[k]!, buf, batch.offsets[k]!, batch.offsets[k]! + batch.lengths[k]!, pkt);
      // A handshake packet's evidence C keeps itself (frame-evidence.c), but for its VXLAN leg and an IPv6 source MAC.
      const syn = pkt.transport === Transport.TCP && (pkt.tcpFlags & TcpFlag.SYN) !== 0;
      const sourceMac = pkt.ethOffset >= 0 || pkt.sllMacOffset >= 0;
      const handshakeForJs = syn && (pkt.vxlanVni >= 0 || (pkt.ipVersion === 6 && sourceMac));
      const icmp = pkt.transport === Transport.ICMP && pkt.icmpQuotesTcp;
      // As DecodeStage: a frame the host sent counts only with the interface index of cooked v2.
      const sentByHost = pkt.sllPacketType === SLL_OUTGOING && pkt.sllIfIndex >= 0;
      if (pkt.problem !== 0 || !(pkt.transport === Transport.TCP || icmp) || handshakeForJs || sentByHost) {
        wrongSkips.push(`link type ${batch.linkTypes[k]}: ${buf.subarray(batch.offsets[k]!, batch.offsets[k]! + batch.lengths[k]!).toString('hex')}`);
      }
    }
  };
  const held: Buffer[] = [];
  let time = 1_700_000_000;
  for (let i = 0; i < 60000; i++) {
    const seed = frames[random.nextUint32() % frames.length]!;
    const buf = Buffer.from(seed.data);
    const edits = random.nextUint32() % 7;
    for (let e = 0; e < edits; e++) buf[random.nextUint32() % buf.length] = random.nextUint32() & 0xff;
    const end = random.nextUint32() % 4 === 0 ? random.nextUint32() % (buf.length + 1) : buf.length;
    time += (random.nextUint32() % 1000) * 1e-3;
    decodeFrame(seed.linkType, buf, 0, end, pkt);
    if (pkt.transport === Transport.TCP || (pkt.transport === Transport.ICMP && pkt.icmpQuotesTcp)) jsTracker.add(pkt, buf, time, 0);
    // The C tracker holds frames by reference until a sync: keep them.
    held.push(buf);
    cTracker.addFrame(seed.linkType, buf, 0, end, time, 0);
    if (held.length === 1000) {
      cTracker.sync();
      held.length = 0;
    }
  }
  jsTracker.finish();
  cTracker.finish();
  assert.ok(js.length > 2000, `${js.length} flows`);
  assert.ok(skipped > 10000, `${skipped} frames left to C alone`);
  assert.deepEqual(wrongSkips.slice(0, 5), []);
  assert.equal(c.length, js.length);
  const first = js.findIndex((f, i) => f !== c[i]);
  assert.equal(first, -1, first < 0 ? '' : `first difference at flow ${first}:\n js ${js[first]}\n c  ${c[first]}`);
  assert.deepEqual(cTracker.pressure, jsTracker.pressure);
});
