import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTcpOptions } from '../src/decode/tcp-options';
import { hex } from './decode-helpers';

test('parses a Linux/BSD SYN option block', () => {
  // options [mss 1460,nop,wscale 4,nop,nop,TS val 374005024 ecr 0,sackOK,eol] (zeek/tcp__syn.pcap)
  const opts = hex('020405b4 010303 04 0101 080a164add2000000000 0402 0000');
  const parsed = parseTcpOptions(opts, 0, opts.length);
  assert.deepEqual(parsed, {
    mss: 1460,
    windowScale: 4,
    sackPermitted: true,
    tsVal: 374005024,
    tsEcr: 0,
    unknown: [],
    malformed: false,
  });
});

test('reads only inside [offset, offset + length)', () => {
  // 4 bytes of junk, then options [mss 536] (zeek/mixed-vlan-mpls.pcap), then an MSS outside the range.
  const buf = hex('ffffffff 02040218 020405b4');
  const parsed = parseTcpOptions(buf, 4, 4);
  assert.equal(parsed.mss, 536);
});

test('keeps unknown kinds raw, as views into the packet', () => {
  // kind 30 (MPTCP) length 4, kind 34 (TFO cookie) length 10
  const buf = hex('1e040102 220a0102030405060708');
  const parsed = parseTcpOptions(buf, 0, buf.length);
  assert.equal(parsed.unknown.length, 2);
  assert.equal(parsed.unknown[0]!.kind, 30);
  assert.deepEqual([...parsed.unknown[0]!.data], [1, 2]);
  assert.equal(parsed.unknown[1]!.kind, 34);
  assert.equal(parsed.unknown[1]!.data.buffer, buf.buffer, 'not copied');
  assert.equal(parsed.malformed, false);
});

test('EOL ends the list', () => {
  const buf = hex('00 020405b4');
  assert.equal(parseTcpOptions(buf, 0, buf.length).mss, null);
});

test('flags bad lengths as malformed and never throws', () => {
  const cases = [
    '02', // kind without length byte
    '0201', // length < 2
    '0200', // length 0 would loop forever
    '020805b4', // length past the end
    '0203ff', // MSS with the wrong length
    '080a0000', // timestamps cut short
  ];
  for (const c of cases) {
    const buf = hex(c);
    assert.equal(parseTcpOptions(buf, 0, buf.length).malformed, true, c);
  }
  // options [unknown-48 0x3030303030303030 [|tcp]] (tcpdump/heapoverflow-tcp_print.pcap)
  const junk = Buffer.alloc(40, 0x30);
  assert.equal(parseTcpOptions(junk, 0, 40).malformed, true);
  assert.equal(parseTcpOptions(junk, 30, 40).malformed, true, 'length past the buffer');
  assert.equal(parseTcpOptions(junk, -5, 3).malformed, false, 'negative offset reads nothing odd');
});
