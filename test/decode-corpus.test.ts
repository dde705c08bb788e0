import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress, formatEndpoint, ipv4ToString } from '../src/decode/address';
import { decodeFrame } from '../src/decode/dispatch';
import { DecodedPacket, TcpFlag, Transport } from '../src/decode/packet';
import { problemName } from '../src/decode/problems';
import { corpus, readPcapFrames } from './decode-helpers';

interface Tally {
  packets: number;
  problems: string[];
  tcp: number;
  syn: number;
  synAck: number;
  rst: number;
  /** "client > server" of every SYN without ACK. */
  syns: Set<string>;
  udp: Set<string>;
  icmp: number;
  arp: number;
  vlanIds: Set<string>;
}

function endpoint(words: Uint32Array, version: number, port: number): string {
  const v = version === 6 ? 6 : 4;
  return formatEndpoint(formatAddress(words, v), port, v);
}

function tally(name: string): Tally {
  const t: Tally = {
    packets: 0, problems: [], tcp: 0, syn: 0, synAck: 0, rst: 0, syns: new Set(), udp: new Set(),
    icmp: 0, arp: 0, vlanIds: new Set(),
  };
  const pkt = new DecodedPacket();
  for (const frame of readPcapFrames(corpus(name))) {
    decodeFrame(frame.linkType, frame.data, 0, frame.data.length, pkt);
    t.packets++;
    if (pkt.problem !== 0) t.problems.push(problemName(pkt.problem));
    if (pkt.vlanCount > 0) t.vlanIds.add([...pkt.vlanIds.subarray(0, pkt.vlanCount)].join('/'));
    const from = endpoint(pkt.src, pkt.ipVersion, pkt.srcPort);
    const to = endpoint(pkt.dst, pkt.ipVersion, pkt.dstPort);
    if (pkt.transport === Transport.TCP) {
      t.tcp++;
      const syn = (pkt.tcpFlags & TcpFlag.SYN) !== 0;
      const ack = (pkt.tcpFlags & TcpFlag.ACK) !== 0;
      if (syn && !ack) {
        t.syn++;
        t.syns.add(`${from} > ${to}`);
      }
      if (syn && ack) t.synAck++;
      if ((pkt.tcpFlags & TcpFlag.RST) !== 0) t.rst++;
    } else if (pkt.transport === Transport.UDP) {
      t.udp.add(`${from} > ${to}`);
    } else if (pkt.transport === Transport.ICMP) {
      t.icmp++;
    } else if (pkt.transport === Transport.ARP) {
      t.arp++;
    }
  }
  return t;
}

// Expected counts come from `tshark -Y` over the same files; the SYN tuples agree with
// Zeek's conn.log baselines in the corpus where one exists (id.orig_h/p > id.resp_h/p).

test('SLL2 (276): ICMP, ICMPv6 and ARP on lo/veth (zeek/linux_dlt_sll2.pcap)', () => {
  const t = tally('zeek/linux_dlt_sll2.pcap');
  assert.deepEqual(t.problems, []);
  assert.equal(t.packets, 6);
  assert.equal(t.icmp, 4);
  assert.equal(t.arp, 1);
  assert.equal(t.tcp, 0);
});

test('SLL2 (276): a TLS handshake (zeek/tls__openjdk-25.0.2-zeek.org.pcap)', () => {
  const t = tally('zeek/tls__openjdk-25.0.2-zeek.org.pcap');
  assert.deepEqual(t.problems, []);
  assert.equal(t.tcp, 6);
  assert.deepEqual([t.syn, t.synAck], [1, 1]);
  assert.deepEqual([...t.syns], ['192.168.64.6:55058 > 192.0.78.150:443']);
});

test('NULL with AF 30 (zeek/http__connect-with-header.pcap; conn.log ::1 52522 ::1 80 S1)', () => {
  const t = tally('zeek/http__connect-with-header.pcap');
  assert.deepEqual(t.problems, []);
  assert.equal(t.tcp, 58);
  assert.deepEqual([t.syn, t.synAck], [1, 1]);
  assert.deepEqual([...t.syns], ['[::1]:52522 > [::1]:80']);
});

test('NULL with AF 2 on macOS loopback (zeek/tls__pop3-starttls.pcap)', () => {
  const t = tally('zeek/tls__pop3-starttls.pcap');
  assert.deepEqual(t.problems, []);
  assert.deepEqual([t.tcp, t.syn, t.synAck, t.rst], [33, 1, 1, 2]);
  assert.deepEqual([...t.syns], ['192.168.4.149:54775 > 192.168.4.149:110']);
});

test('802.1ad QinQ with ARP inside (tcpdump/802.1ad_QinQ.pcap)', () => {
  const t = tally('tcpdump/802.1ad_QinQ.pcap');
  assert.deepEqual(t.problems, []);
  assert.equal(t.arp, 2);
  assert.deepEqual([...t.vlanIds], ['200/2001']);
});

test('802.1Q in 802.1Q (zeek/q-in-q.pcap; conn.log has the two UDP flows)', () => {
  const t = tally('zeek/q-in-q.pcap');
  assert.deepEqual(t.problems, []);
  assert.ok(t.udp.has('172.19.51.37:47808 > 172.19.51.63:47808'));
  assert.ok(t.udp.has('193.1.186.60:9875 > 224.2.127.254:9875'));
});

test('VLAN and MPLS mixed (zeek/mixed-vlan-mpls.pcap; conn.log SH, SF, SF)', () => {
  const t = tally('zeek/mixed-vlan-mpls.pcap');
  assert.deepEqual(t.problems, []);
  assert.equal(t.tcp, 47);
  assert.deepEqual([t.syn, t.synAck], [3, 2]);
  assert.deepEqual([...t.syns].sort(), [
    '10.1.2.1:11001 > 10.34.0.1:23',
    '10.20.80.1:50343 > 10.0.0.15:80',
    '141.42.64.125:56730 > 125.190.109.199:80',
  ]);
});

test('PPPoE over QinQ (zeek/pppoe-over-qinq.pcap; conn.log 1.1.1.1 20394 2.2.2.2 443 SF)', () => {
  const t = tally('zeek/pppoe-over-qinq.pcap');
  assert.deepEqual(t.problems, []);
  assert.equal(t.tcp, 86);
  assert.deepEqual([t.syn, t.synAck], [1, 1]);
  assert.deepEqual([...t.syns], ['1.1.1.1:20394 > 2.2.2.2:443']);
  assert.deepEqual([...t.vlanIds], ['3704/2474']);
});

test('SLL v1 (zeek/tls__irc-starttls.pcap)', () => {
  const t = tally('zeek/tls__irc-starttls.pcap');
  assert.deepEqual(t.problems, []);
  assert.deepEqual([t.tcp, t.syn, t.synAck, t.rst], [20, 1, 1, 2]);
  assert.deepEqual([...t.syns], ['203.143.168.47:55123 > 185.18.76.170:6667']);
});

test('raw IP (101): 20 unanswered SYNs (zeek/rotation.pcap)', () => {
  const t = tally('zeek/rotation.pcap');
  assert.deepEqual(t.problems, []);
  assert.deepEqual([t.tcp, t.syn, t.synAck], [20, 20, 0]);
  assert.ok(t.syns.has('10.0.0.2:20 > 10.0.0.3:9'));
});

test('IPv6 over Ethernet (zeek/ftp__ipv6.pcap)', () => {
  const t = tally('zeek/ftp__ipv6.pcap');
  assert.deepEqual(t.problems, []);
  assert.deepEqual([t.tcp, t.syn, t.synAck], [136, 6, 6]);
  assert.ok(t.syns.has('[2001:470:1f11:81f:c999:d94:aa7c:2e3e]:49185 > [2001:470:4867:99::21]:21'));
});

test('ipv4ToString agrees with the ARP addresses tcpdump prints', () => {
  const [frame] = readPcapFrames(corpus('tcpdump/802.1ad_QinQ.pcap'));
  const pkt = new DecodedPacket();
  decodeFrame(frame!.linkType, frame!.data, 0, frame!.data.length, pkt);
  // Request who-has 172.21.79.100 tell 172.21.79.97
  assert.equal(ipv4ToString(pkt.arpTargetIp), '172.21.79.100');
  assert.equal(ipv4ToString(pkt.arpSenderIp), '172.21.79.97');
});
