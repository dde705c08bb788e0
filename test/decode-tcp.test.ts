import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TcpFlag } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { parseTcpOptions } from '../src/decode/tcp-options';
import { assertProblemAtEveryCut, corpus, decode, readPcapFrames } from './decode-helpers';
import { ETHERNET_SYN } from './decode-fixtures';

test('TCP SYN fields and options location', () => {
  // 141.142.228.5.59856 > 192.150.187.43.80: Flags [S], seq 4263588410, win 65535,
  //   options [mss 1460,nop,wscale 4,nop,nop,TS val 374005024 ecr 0,sackOK,eol], length 0
  const pkt = decode(1, ETHERNET_SYN);
  assert.equal(pkt.srcPort, 59856);
  assert.equal(pkt.dstPort, 80);
  assert.equal(pkt.seq, 4263588410);
  assert.equal(pkt.ack, 0);
  assert.equal(pkt.tcpFlags, TcpFlag.SYN);
  assert.equal(pkt.window, 65535);
  assert.equal(pkt.tcpOptionsOffset, 54);
  assert.equal(pkt.tcpOptionsLength, 24);
  assert.equal(pkt.payloadLength, 0);
  assert.equal(pkt.cursor, ETHERNET_SYN.length);
  const opts = parseTcpOptions(ETHERNET_SYN, pkt.tcpOptionsOffset, pkt.tcpOptionsLength);
  assert.equal(opts.mss, 1460);
  assert.equal(opts.windowScale, 4);
  assert.equal(opts.tsVal, 374005024);
});

test('payload length comes from the IP header even when snapped', () => {
  // tcpdump/tcp_rst_diag_payload-trunc.pcap: [R.] seq 1:9, the payload cut by the snaplen
  const [frame] = readPcapFrames(corpus('tcpdump/tcp_rst_diag_payload-trunc.pcap'));
  const pkt = decode(0, frame!.data);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.tcpFlags, TcpFlag.RST | TcpFlag.ACK);
  assert.equal(pkt.payloadLength, 8);
});

test('a data offset below 5 or past the IP payload is invalid', () => {
  const small = Buffer.from(ETHERNET_SYN);
  small[46] = 0x40;
  assert.equal(decode(1, small).problem, Problem.BAD_TCP_DATA_OFFSET);
  const big = Buffer.from(ETHERNET_SYN);
  big[46] = 0xf0; // 60 bytes > 44 bytes of IP payload
  assert.equal(decode(1, big).problem, Problem.BAD_TCP_DATA_OFFSET);
});

test('a cut TCP header (fixed part or options) is truncated-tcp', () => {
  assertProblemAtEveryCut(1, ETHERNET_SYN, 34, ETHERNET_SYN.length, () => Problem.TRUNCATED_TCP);
  // tcpdump/heapoverflow-tcp_print.pcap: options cut by a 64-byte snaplen ([|tcp])
  const [frame] = readPcapFrames(corpus('tcpdump/heapoverflow-tcp_print.pcap'));
  assert.equal(decode(1, frame!.data).problem, Problem.TRUNCATED_TCP);
});

test('a header cut after its flags still gives what a handshake needs: ports, sequence numbers, flags, and the payload length', () => {
  // ETHERNET_SYN: Ethernet 14, IPv4 20, TCP 44 (24 bytes of options). A snap length of 68 on
  // IPv6, or 54 on `-i any` (SLL2), leaves 14 bytes of TCP.
  for (const tcpBytes of [14, 15]) {
    const pkt = decode(1, ETHERNET_SYN.subarray(0, 34 + tcpBytes));
    assert.equal(pkt.problem, Problem.TRUNCATED_TCP);
    assert.deepEqual([pkt.srcPort, pkt.dstPort, pkt.seq, pkt.ack, pkt.tcpFlags], [59856, 80, 4263588410, 0, TcpFlag.SYN]);
    assert.equal(pkt.window, -1, 'the window was cut: not zero');
    assert.equal(pkt.tcpOptionsLength, 0);
    assert.equal(pkt.payloadLength, 0);
    assert.equal(pkt.tcpOptionsCut, true, 'its 24 bytes of options were not captured');
  }
  const withWindow = decode(1, ETHERNET_SYN.subarray(0, 34 + 16));
  assert.equal(withWindow.window, 65535);
  assert.equal(decode(1, ETHERNET_SYN).tcpOptionsCut, false);
  const beforeFlags = decode(1, ETHERNET_SYN.subarray(0, 34 + 13));
  assert.equal(beforeFlags.problem, Problem.TRUNCATED_TCP);
  assert.equal(beforeFlags.tcpFlags, 0, 'without the flags byte nothing is decoded');
});
