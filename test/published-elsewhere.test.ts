import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publishedElsewhere } from '../src/diagnose/published-elsewhere';
import { makeContext } from './context-fixtures';

/** Docker 20.10's nat table for `-p 8080:80` (web) and `-p 127.0.0.1:8081:80` (app), as iptables-save prints it. */
const NAT = (extra = '') => `*nat
:PREROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.3:80
${extra}COMMIT
`;

const context = (iptables: string | null, nft: string | null = null) =>
  makeContext({
    natRules: { iptables, nft },
    dockerNetworks: [{ id: 'n1', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['172.17.0.0/16'], gateways: ['172.17.0.1'], bridge: 'docker0', ingress: false, internal: false, endpoints: [{ name: 'app', addresses: ['172.17.0.3'] }] }],
  });

test('a port published on 127.0.0.1 only: the rule, its address and the container behind it', () => {
  assert.deepEqual(publishedElsewhere(context(NAT()), '192.0.2.1', 8081), {
    addresses: ['127.0.0.1'],
    rules: ['-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.3:80'],
    target: { ip: '172.17.0.3', port: 80 },
    container: 'app',
  });
});

test('published for every address, for this one too, or not at all: not this story', () => {
  assert.equal(publishedElsewhere(context(NAT()), '192.0.2.1', 8080), null, '-p 8080:80 takes every address');
  assert.equal(publishedElsewhere(context(NAT()), '192.0.2.1', 9000), null, 'no DNAT for the port');
  assert.equal(publishedElsewhere(context(NAT()), '127.0.0.1', 8081), null, 'the SYN went to the address it is published on');
  const both = NAT('-A DOCKER -d 192.0.2.1/32 ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.3:80\n');
  assert.equal(publishedElsewhere(context(both), '192.0.2.1', 8081), null, 'also published on this address');
  const udp = NAT().replace('-p tcp -m tcp --dport 8081', '-p udp -m udp --dport 8081');
  assert.equal(publishedElsewhere(context(udp), '192.0.2.1', 8081), null, 'a UDP mapping is not a TCP one');
  assert.equal(publishedElsewhere(context(null), '192.0.2.1', 8081), null, 'no rules in the snapshot');
});

test('a range of published ports and an IPv6 flow meet only rules of their own', () => {
  const range = NAT('-A DOCKER -d 10.0.0.5/32 ! -i docker0 -p tcp -m tcp --dport 9000:9010 -j DNAT --to-destination 172.17.0.3:9000-9010\n');
  const ranged = publishedElsewhere(context(range), '192.0.2.1', 9005);
  assert.deepEqual([ranged?.addresses, ranged?.target], [['10.0.0.5'], { ip: '172.17.0.3', port: 9005 }], 'the SYN keeps its offset in the range');
  assert.equal(publishedElsewhere(context(NAT()), '2001:db8::1', 8081), null, 'iptables (IPv4) rules say nothing of an IPv6 SYN');
  const allBut = NAT().replace('-d 127.0.0.1/32', '! -d 10.9.9.9/32');
  assert.equal(publishedElsewhere(context(allBut), '192.0.2.1', 8081), null, 'published on every address but one: this one too');
});

test("an nft table's DNAT is read the same way, named with its table and chain", () => {
  const nft = `table inet edge {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 127.0.0.1 tcp dport 8081 dnat ip to 172.17.0.3:80
	}
}
`;
  const p = publishedElsewhere(context(null, nft), '192.0.2.1', 8081);
  assert.deepEqual([p?.addresses, p?.target, p?.container], [['127.0.0.1'], { ip: '172.17.0.3', port: 80 }, 'app']);
  assert.match(p!.rules[0]!, /^nft table inet edge chain prerouting: /);
  const ranged = nft.replace('ip daddr 127.0.0.1', 'ip daddr 10.0.0.1-10.0.0.9');
  assert.equal(publishedElsewhere(context(null, ranged), '192.0.2.1', 8081), null, 'a destination this reader cannot read may hold the address');
});
