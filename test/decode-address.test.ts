import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress, formatEndpoint, ipv4ToString, parseAddress } from '../src/decode/address';

function words6(text: string): Uint32Array {
  const parsed = parseAddress(text);
  assert.ok(parsed, `parses ${text}`);
  return parsed.words;
}

test('ipv4ToString prints the top byte first', () => {
  assert.equal(ipv4ToString(0xc0000201), '192.0.2.1');
  assert.equal(ipv4ToString(0xffffffff), '255.255.255.255');
  assert.equal(ipv4ToString(0), '0.0.0.0');
});

test('formatAddress: IPv4 is word 3 of the IPv4-mapped form', () => {
  assert.equal(formatAddress(Uint32Array.of(0, 0, 0xffff, 0x0a000001), 4), '10.0.0.1');
});

test('formatAddress: RFC 5952 canonical IPv6 text', () => {
  const cases: [string, string][] = [
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2: one zero group stays
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3: the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3: the first of equal runs
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // section 5: mapped keeps dotted form
    ['2604:1380:4091:ce00::d', '2604:1380:4091:ce00::d'],
  ];
  for (const [input, canonical] of cases) assert.equal(formatAddress(words6(input), 6), canonical, input);
});

test('formatEndpoint brackets IPv6 only', () => {
  assert.equal(formatEndpoint('1.2.3.4', 80, 4), '1.2.3.4:80');
  assert.equal(formatEndpoint('::1', 80, 6), '[::1]:80');
});

test('parseAddress reads IPv4 into the mapped layout', () => {
  const parsed = parseAddress('172.17.0.2');
  assert.deepEqual(parsed && { version: parsed.version, words: [...parsed.words] }, {
    version: 4,
    words: [0, 0, 0xffff, 0xac110002],
  });
});

test('parseAddress reads IPv6 forms, including a dotted tail', () => {
  assert.deepEqual([...words6('::1')], [0, 0, 0, 1]);
  assert.deepEqual([...words6('2001:db8::')], [0x20010db8, 0, 0, 0]);
  assert.deepEqual([...words6('64:ff9b::192.0.2.33')], [0x0064ff9b, 0, 0, 0xc0000221]);
  assert.equal(parseAddress('::1')?.version, 6);
});

test('parseAddress refuses what is not an address', () => {
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', 'a.b.c.d', '1::2::3', '12345::',
    '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', ':::', '[::1]', '::1%eth0', '1:2:3:4:5:6:7::8', 'fe80::/64']) {
    assert.equal(parseAddress(bad), null, bad);
  }
});

test('parse then format round-trips canonical text', () => {
  for (const text of ['::', '::1', '2001:db8::1', '2001:db8:1:2:3:4:5:6', '1::', 'fe80::8c36:6ff:fe44:acaf']) {
    assert.equal(formatAddress(words6(text), 6), text);
  }
});
