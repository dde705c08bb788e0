import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findFreeSubnets, replacementPrefix } from '../src/diagnose/free-subnet';
import { parseSubnet, subnetContains, subnetsOverlap, type Subnet } from '../src/net/cidr';

const subnets = (...cidrs: string[]): Subnet[] => cidrs.map((c) => parseSubnet(c)!);
/** Ranges a proposal must never touch: the home LAN block, the low 10.x LANs, 172.16 and Docker's own first defaults. */
const CROWDED = subnets('192.168.0.0/16', '10.0.0.0/15', '172.16.0.0/16', '172.17.0.0/16', '172.18.0.0/16');
const BLOCKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

test('replacementPrefix: the current size, at most a /16, and a /20 for anything larger unless the ports need more', () => {
  assert.equal(replacementPrefix(16), 20, "docker0's default /16 becomes a /20");
  assert.equal(replacementPrefix(16, 3), 20);
  assert.equal(replacementPrefix(16, 3000), 19, '3,000 containers need more than half of a /20');
  assert.equal(replacementPrefix(8, 1_000_000), 16, 'never larger than a /16');
  assert.equal(replacementPrefix(12), 20);
  assert.equal(replacementPrefix(24), 24, 'a /24 stays a /24');
  assert.equal(replacementPrefix(28, 500), 28, 'never larger than the bridge is now');
});

test('findFreeSubnets: far from LAN ranges, the block the clients are not in first', () => {
  assert.deepEqual(findFreeSubnets(20, 1, [], ['172.17.0.50']).map((f) => f.subnet), ['10.200.0.0/20']);
  assert.deepEqual(findFreeSubnets(20, 1, [], ['10.1.2.3']).map((f) => f.subnet), ['172.31.240.0/20'], 'clients in 10/8: the top of 172.16/12');
  assert.deepEqual(
    findFreeSubnets(24, 2, subnets('10.200.0.0/24'), ['10.200.1.7', '172.20.0.9']).map((f) => f.subnet),
    ['10.200.2.0/24', '10.200.3.0/24'],
    'clients in both blocks: 10.2xx first, a used subnet and a seen address skipped',
  );
});

test('findFreeSubnets: never a whole private block, never 192.168, even asked for more than a /16 with clients everywhere', () => {
  // The old search proposed 192.168.0.0/16 here: clients in both 10/8 and 172.16/12.
  const found = findFreeSubnets(8, 3, subnets('10.200.0.0/16'), ['10.0.0.5', '172.17.0.50', '192.168.1.20']);
  assert.equal(found.length, 3);
  for (const f of found) {
    assert.equal(f.subnet.split('/')[1], '16', f.subnet);
    assert.ok(!BLOCKS.includes(f.subnet), f.subnet);
    assert.ok(!CROWDED.some((c) => subnetsOverlap(c, parseSubnet(f.subnet)!)), f.subnet);
  }
  assert.deepEqual(found.map((f) => f.subnet), ['10.201.0.0/16', '10.202.0.0/16', '10.203.0.0/16']);
});

test('findFreeSubnets: whatever is taken, a proposal overlaps none of it and no crowded range', () => {
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 200; round++) {
    const avoid: Subnet[] = [];
    for (let i = 0; i < 40; i++) avoid.push(parseSubnet(`${rand(2) === 0 ? `10.${190 + rand(66)}` : `172.${19 + rand(13)}`}.${rand(256)}.0/${16 + rand(9)}`)!);
    const addresses = Array.from({ length: 20 }, () => `10.${200 + rand(56)}.${rand(256)}.${rand(256)}`);
    const prefix = 16 + rand(9);
    for (const f of findFreeSubnets(prefix, 2, avoid, addresses)) {
      const s = parseSubnet(f.subnet)!;
      assert.equal(Number(s.range.getPrefix().getValue()), prefix);
      assert.ok(!avoid.some((a) => subnetsOverlap(a, s)), `${f.subnet} overlaps a taken subnet`);
      assert.ok(!CROWDED.some((c) => subnetsOverlap(c, s)), `${f.subnet} is in a crowded range`);
      assert.ok(!addresses.some((a) => subnetContains(s, a)), `${f.subnet} holds a seen address`);
    }
  }
});
