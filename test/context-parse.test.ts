import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { collectHostContext } from '../src/context/collect';
import type { CommandOutcome, CommandRunner } from '../src/context/command';
import { fetchDockerNetworks, parseDockerNetworks } from '../src/context/docker-api';
import type { NetInterface, Route } from '../src/context/host-context';
import { loadHostContext, parseHostContext } from '../src/context/load';
import { parseIpAddr, withAddresses } from '../src/context/parse-ip-addr';
import { parseIpLink } from '../src/context/parse-ip-link';
import { parseIpRoute } from '../src/context/parse-ip-route';
import { parseIpRule } from '../src/context/parse-ip-rule';
import { parseProcNet } from '../src/context/parse-proc-net';
import { readSysctls } from '../src/context/sysctls';
import { isSynscopeError } from '../src/errors';
import { REPO } from './cli-harness';

const FIXTURES = path.join(REPO, 'test', 'fixtures', 'context');
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

function byName(list: readonly NetInterface[], name: string): NetInterface {
  const found = list.find((i) => i.name === name);
  assert.ok(found, `no interface ${name} in ${list.map((i) => i.name).join(', ')}`);
  return found;
}

const routeKey = (r: Route): string => `${r.table} ${r.type} ${r.destination} dev ${r.device} via ${r.gateway} metric ${r.metric}`;

test('ip link: kinds from linkinfo, bridge ports from masters, MAC, MTU, up', () => {
  const links = parseIpLink(fixture('ip-link.json'));
  assert.deepEqual(
    links.map((i) => `${i.name}:${i.kind}`),
    ['lo:loopback', 'docker0:bridge', 'docker_gwbridge:bridge', 'br-0123456789ab:bridge', 'ctr-eth0:veth', 'veth1a2b3c:veth', 'vxlan0:vxlan', 'tun0:tun', 'eth0:veth'],
  );
  assert.deepEqual(byName(links, 'docker0').ports, ['veth1a2b3c']);
  assert.deepEqual(byName(links, 'br-0123456789ab').ports, ['vxlan0']);
  assert.deepEqual(byName(links, 'docker_gwbridge').ports, []);
  assert.equal(byName(links, 'veth1a2b3c').master, 'docker0');
  assert.equal(byName(links, 'eth0').master, null);
  assert.equal(byName(links, 'eth0').index, 44);
  assert.equal(byName(links, 'eth0').mac, '62:ba:4a:21:0d:11');
  assert.equal(byName(links, 'tun0').mac, null, 'a tun device has no link-layer address');
  assert.equal(byName(links, 'ctr-eth0').mtu, 1450);
  assert.equal(byName(links, 'vxlan0').up, false);
  assert.equal(byName(links, 'docker0').up, true);
  for (const l of links) assert.deepEqual(l.addresses, []);
});

test('ip link: a NIC without linkinfo is physical, unknown kinds are "other"', () => {
  const links = parseIpLink(fixture('ip-link-host.json'));
  assert.deepEqual(
    links.map((i) => `${i.name}:${i.kind}`),
    ['lo:loopback', 'ifb0:other', 'ifb1:other', 'eth0:physical'],
  );
  const synthetic = JSON.stringify([
    { ifindex: 5, ifname: 'bond0', flags: ['MASTER', 'UP'], mtu: 1500, link_type: 'ether', address: 'AA:BB:CC:DD:EE:FF', linkinfo: { info_kind: 'bond' } },
    { ifindex: 6, ifname: 'eno1', flags: ['SLAVE', 'UP'], mtu: 1500, link_type: 'ether', master: 'bond0', address: 'aa:bb:cc:dd:ee:01' },
    { ifindex: 7, ifname: 'eno1.10', flags: [], mtu: 1500, link_type: 'ether', linkinfo: { info_kind: 'vlan' } },
    { ifindex: 8, ifname: 'dummy0', flags: [], mtu: 1500, link_type: 'ether', linkinfo: { info_kind: 'dummy' } },
    { ifindex: 9, ifname: 'tunl0', flags: [], mtu: 1480, link_type: 'ipip', address: '0.0.0.0', linkinfo: { info_kind: 'ipip' } },
    { ifname: 'no-index' },
  ]);
  const s = parseIpLink(synthetic);
  assert.deepEqual(s.map((i) => `${i.name}:${i.kind}`), ['bond0:bond', 'eno1:physical', 'eno1.10:vlan', 'dummy0:dummy', 'tunl0:other']);
  assert.equal(s[0]!.mac, 'aa:bb:cc:dd:ee:ff');
  assert.deepEqual(s[0]!.ports, ['eno1']);
  assert.equal(s[4]!.mac, null, 'an IPv4 "address" of a tunnel is not a MAC');
});

test('ip addr: addresses per interface, canonical text, merged by index', () => {
  const addrs = parseIpAddr(fixture('ip-addr.json'));
  const links = withAddresses(parseIpLink(fixture('ip-link.json')), addrs);
  const text = (name: string) => byName(links, name).addresses.map((a) => `${a.family} ${a.address}/${a.prefixLength}`);
  assert.deepEqual(text('docker0').slice(0, 2), ['4 172.17.0.1/16', '6 fd00:0:0:17::1/64']);
  assert.deepEqual(text('docker_gwbridge')[0], '4 172.18.0.1/16');
  assert.deepEqual(text('br-0123456789ab')[0], '4 172.20.0.1/16');
  assert.deepEqual(text('eth0').slice(0, 2), ['4 192.168.0.10/24', '6 2001:db8:0:1::10/64']);
  assert.deepEqual(text('lo'), ['4 127.0.0.1/8', '6 ::1/128']);
  assert.deepEqual(text('tun0'), []);

  const odd = parseIpAddr(
    JSON.stringify([
      {
        ifindex: 3,
        addr_info: [
          { family: 'inet6', local: '2001:0DB8:0000:0000:0000:0000:0000:0001', prefixlen: 64 },
          { family: 'inet', local: '10.0.0.1', address: '10.0.0.2', prefixlen: 32 },
          { family: 'inet', local: 'garbage', prefixlen: 8 },
          { family: 'inet', local: '10.9.9.9' },
        ],
      },
    ]),
  );
  assert.deepEqual(odd.get(3), [
    { family: 6, address: '2001:db8::1', prefixLength: 64 },
    { family: 4, address: '10.0.0.1', prefixLength: 32 },
  ]);
});

test('ip route: every table, default and host routes as CIDRs, the double 192.168.0.0/24', () => {
  const v4 = parseIpRoute(fixture('ip-route-4.json'), 4);
  const keys = v4.map(routeKey);
  for (const expected of [
    'main unicast 0.0.0.0/0 dev eth0 via 192.168.0.1 metric 0',
    'main unicast 192.168.0.0/24 dev eth0 via null metric 0',
    'main unicast 192.168.0.0/24 dev docker0 via null metric 1000',
    '100 unicast 192.168.0.0/24 dev docker0 via null metric 0',
    '100 blackhole 10.99.0.0/16 dev null via null metric 0',
    '100 unicast 10.60.0.5/32 dev eth0 via 192.168.0.4 metric 0',
    'main unicast 10.200.0.0/16 dev br-0123456789ab via 172.20.0.2 metric 50',
    'local local 127.0.0.1/32 dev lo via null metric 0',
    'local broadcast 172.17.255.255/32 dev docker0 via null metric 0',
  ]) {
    assert.ok(keys.includes(expected), `missing "${expected}" in\n${keys.join('\n')}`);
  }
  assert.equal(v4.length, 22);
  assert.ok(v4.every((r) => r.family === 4));
  const kernel = v4.find((r) => r.destination === '172.17.0.0/16')!;
  assert.deepEqual([kernel.protocol, kernel.scope, kernel.source], ['kernel', 'link', '172.17.0.1']);
  const multipath = v4.find((r) => r.destination === '10.50.0.0/16')!;
  assert.deepEqual(multipath.nexthops, [
    { gateway: '192.168.0.2', device: 'eth0', weight: 1 },
    { gateway: '192.168.0.3', device: 'eth0', weight: 2 },
  ]);
  assert.equal(multipath.device, 'eth0');
  assert.equal(v4.find((r) => r.destination === '0.0.0.0/0')!.nexthops, undefined);

  const v6 = parseIpRoute(fixture('ip-route-6.json'), 6);
  const keys6 = v6.map(routeKey);
  for (const expected of [
    '100 unreachable 2001:db8:dead::/48 dev lo via null metric 1024',
    'main unicast 2001:db8:ff::/48 dev eth0 via 2001:db8:0:1::1 metric 1024',
    'main unicast fd00:0:0:17::/64 dev docker0 via null metric 256',
    'local local ::1/128 dev lo via null metric 0',
    'local multicast ff00::/8 dev docker0 via null metric 256',
  ]) {
    assert.ok(keys6.includes(expected), `missing "${expected}" in\n${keys6.join('\n')}`);
  }
  assert.ok(v6.every((r) => r.family === 6));

  const synthetic = parseIpRoute(
    JSON.stringify([
      { dst: 'default', gateway: 'FE80::1', dev: 'eth0', metric: 1024 },
      { dst: '2001:db8:0:0:1::/80', dev: 'eth0' },
      { dst: '10.1.2.3/8', via: { family: 'inet6', host: 'fe80::1' }, dev: 'eth0' },
      { dst: 'nonsense' },
    ]),
    6,
  );
  assert.deepEqual(synthetic.map((r) => [r.destination, r.gateway]), [
    ['::/0', 'fe80::1'],
    ['2001:db8:0:0:1::/80', null],
  ]);
  const v4via6 = parseIpRoute(JSON.stringify([{ dst: '10.1.2.3/8', via: { family: 'inet6', host: 'fe80::1' }, dev: 'eth0' }]), 4);
  assert.deepEqual([v4via6[0]!.destination, v4via6[0]!.gateway], ['10.0.0.0/8', 'fe80::1'], 'host bits cleared, RFC 5549 gateway kept');
});

test('ip rule: selectors as CIDRs, fwmark/mask, not, every action', () => {
  const v4 = parseIpRule(fixture('ip-rule-4.json'), 4);
  assert.deepEqual(
    v4.map((r) => r.priority),
    [0, 100, 200, 300, 400, 500, 600, 700, 32766, 32767],
  );
  const at = (p: number) => v4.find((r) => r.priority === p)!;
  assert.deepEqual(at(0), { priority: 0, family: 4, from: null, to: null, iif: null, oif: null, fwmark: null, action: 'lookup', table: 'local', invert: false });
  assert.deepEqual([at(100).from, at(100).action, at(100).table], ['172.20.0.0/16', 'lookup', '100']);
  assert.deepEqual([at(200).to, at(200).fwmark, at(200).iif, at(200).invert, at(200).table], ['10.0.0.0/8', '0x1/0xff', 'docker0', true, '200']);
  assert.deepEqual([at(300).oif, at(300).action, at(300).table], ['eth0', 'blackhole', null]);
  assert.deepEqual([at(400).to, at(400).action], ['10.99.0.0/16', 'unreachable']);
  assert.deepEqual([at(500).from, at(500).action], ['10.1.2.3/32', 'prohibit']);
  assert.deepEqual([at(600).fwmark, at(600).action, at(600).target, at(600).table], ['0x20', 'goto', 32766, null]);
  assert.equal(at(700).action, 'nop');
  assert.equal(at(32766).table, 'main');

  const v6 = parseIpRule(fixture('ip-rule-6.json'), 6);
  assert.deepEqual(
    v6.map((r) => `${r.priority} ${r.from ?? 'all'} ${r.to ?? 'all'} ${r.action} ${r.table}`),
    ['0 all all lookup local', '150 fd00:0:0:17::/64 all lookup 100', '160 all 2001:db8:ff::/48 unreachable null', '32766 all all lookup main'],
  );
  assert.deepEqual(parseIpRule(JSON.stringify([{ priority: 5, src: 'not-an-ip', srclen: 8, table: '9' }]), 4), [], 'an unreadable selector drops the rule instead of widening it to "all"');
});

test('proc/net: netstat and snmp header/value pairs become "Prefix.Name" counters', () => {
  const netstat = parseProcNet(fixture('proc-net-netstat.txt'));
  const snmp = parseProcNet(fixture('proc-net-snmp.txt'));
  assert.equal(Object.keys(netstat).length, 229);
  assert.equal(Object.keys(snmp).length, 83);
  assert.equal(netstat['TcpExt.ListenOverflows'], 0);
  assert.equal(netstat['TcpExt.IPReversePathFilter'], 0);
  assert.equal(snmp['Ip.Forwarding'], 2);
  assert.equal(snmp['Tcp.MaxConn'], -1);
  assert.ok(Object.keys(netstat).some((k) => k.startsWith('IpExt.')));

  const small = parseProcNet(
    'TcpExt: SyncookiesSent PAWSPassive ListenOverflows\nTcpExt: 1 17 4\nIpExt: A B\nIpExt: 1\nTcp: X\nUdp: InDatagrams\nUdp: 12\n',
  );
  assert.deepEqual(small, { 'TcpExt.SyncookiesSent': 1, 'TcpExt.PAWSPassive': 17, 'TcpExt.ListenOverflows': 4, 'Udp.InDatagrams': 12 });
});

test('sysctls: globals, rp_filter and route_localnet per interface, meaningful absences recorded', () => {
  const files: Record<string, string> = {
    '/proc/sys/net/ipv4/tcp_timestamps': '1\n',
    '/proc/sys/net/ipv4/ip_forward': '1\n',
    '/proc/sys/net/core/somaxconn': '4096\n',
    '/proc/sys/net/ipv4/conf/all/rp_filter': '1\n',
    '/proc/sys/net/ipv4/conf/default/rp_filter': '2\n',
    '/proc/sys/net/ipv4/conf/all/route_localnet': '0\n',
    '/proc/sys/net/ipv4/conf/docker0/rp_filter': '0\n',
    '/proc/sys/net/ipv4/conf/docker0/route_localnet': '1\n',
    '/proc/sys/net/ipv4/conf/eth0.10/rp_filter': '1\n',
  };
  const { sysctls, unavailable } = readSysctls((p) => files[p] ?? null, ['all', 'default', 'docker0', 'eth0.10']);
  assert.deepEqual(sysctls, {
    'net.ipv4.tcp_timestamps': '1',
    'net.ipv4.ip_forward': '1',
    'net.core.somaxconn': '4096',
    'net.ipv4.conf.all.rp_filter': '1',
    'net.ipv4.conf.all.route_localnet': '0',
    'net.ipv4.conf.default.rp_filter': '2',
    'net.ipv4.conf.docker0.rp_filter': '0',
    'net.ipv4.conf.docker0.route_localnet': '1',
    'net.ipv4.conf.eth0/10.rp_filter': '1',
  });
  assert.deepEqual(unavailable, [
    { source: 'sysctl net.ipv4.tcp_tw_recycle', reason: 'absent: removed in Linux 4.12' },
    { source: 'sysctl net.bridge.bridge-nf-call-iptables', reason: 'absent: br_netfilter not loaded' },
  ]);
  const old = readSysctls((p) => (p === '/proc/sys/net/ipv4/tcp_tw_recycle' ? '1\n' : null), []);
  assert.equal(old.sysctls['net.ipv4.tcp_tw_recycle'], '1');
  assert.ok(!old.unavailable.some((u) => u.source.includes('tcp_tw_recycle')));
});

test('Docker API /networks: bridge devices, swarm ingress + docker_gwbridge, canonical subnets', () => {
  const nets = parseDockerNetworks(fixture('docker-networks.json'));
  assert.deepEqual(
    nets.map((n) => [n.name, n.driver, n.bridge, n.subnets.join(','), n.gateways.join(',')]),
    [
      ['app_default', 'bridge', 'br-0123456789ab', '172.20.0.0/16,fd00:0:0:20::/64', '172.20.0.1,fd00:0:0:20::1'],
      ['bridge', 'bridge', 'docker0', '172.17.0.0/16', '172.17.0.1'],
      ['docker_gwbridge', 'bridge', 'docker_gwbridge', '172.18.0.0/16', '172.18.0.1'],
      ['host', 'host', null, '', ''],
      ['ingress', 'overlay', null, '10.0.0.0/24', '10.0.0.1'],
      ['none', 'null', null, '', ''],
    ],
  );
  const ingress = nets.find((n) => n.name === 'ingress')!;
  assert.deepEqual([ingress.ingress, ingress.scope, ingress.internal], [true, 'swarm', false]);
  assert.equal(nets.filter((n) => n.ingress).length, 1);

  // Without the bridge-name option Docker still names these two devices itself.
  const bare = parseDockerNetworks(
    JSON.stringify([
      { Name: 'bridge', Id: 'aaaaaaaaaaaaaaaa', Driver: 'bridge', IPAM: { Config: [{ Subnet: '172.17.0.1/16', Gateway: '172.17.0.1/16' }] } },
      { Name: 'docker_gwbridge', Id: 'bbbbbbbbbbbbbbbb', Driver: 'bridge', IPAM: null },
      { Name: 'backend', Id: '9f8e7d6c5b4a3928', Driver: 'bridge', Internal: true, IPAM: { Config: [{ Subnet: '192.168.0.0/20' }] } },
    ]),
  );
  assert.deepEqual(bare.map((n) => [n.name, n.bridge, n.subnets, n.gateways, n.internal, n.masquerade]), [
    ['backend', 'br-9f8e7d6c5b4a', ['192.168.0.0/20'], [], true, true],
    ['bridge', 'docker0', ['172.17.0.0/16'], ['172.17.0.1'], false, true],
    ['docker_gwbridge', 'docker_gwbridge', [], [], false, true],
  ]);
  // Docker masquerades a bridge network unless told not to; other drivers carry no flag.
  const routed = parseDockerNetworks(
    JSON.stringify([
      { Name: 'routed', Id: 'cccccccccccccccc', Driver: 'bridge', Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' } },
      { Name: 'ovl', Id: 'dddddddddddddddd', Driver: 'overlay' },
    ]),
  );
  assert.deepEqual(routed.map((n) => [n.name, n.masquerade]), [['ovl', undefined], ['routed', false]]);
  const macvlans = parseDockerNetworks(
    JSON.stringify([
      { Name: 'lan', Id: 'eeeeeeeeeeeeeeee', Driver: 'macvlan', Options: { parent: 'eth0' } },
      { Name: 'ipv', Id: 'ffffffffffffffff', Driver: 'ipvlan', Options: { parent: 'eth1.20', ipvlan_mode: 'l2' } },
      { Name: 'lonely', Id: '1111111111111111', Driver: 'macvlan', Options: {} },
      { Name: 'br', Id: '2222222222222222', Driver: 'bridge', Options: { parent: 'eth0' } },
    ]),
  );
  assert.deepEqual(macvlans.map((n) => [n.name, n.parent]), [['br', undefined], ['ipv', 'eth1.20'], ['lan', 'eth0'], ['lonely', undefined]]);
  assert.throws(() => parseDockerNetworks('{"message":"page not found"}'), (e: unknown) => isSynscopeError(e) && e.code === 'ERR_BAD_HOST_OUTPUT');
});

/** An HTTP server on a unix socket in a fresh directory; `handler` answers every request. */
async function unixServer(handler: http.RequestListener): Promise<{ socket: string; close: () => Promise<void>; requests: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-docker-'));
  const socket = path.join(dir, 'docker.sock');
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('Docker API client: a network whose inspect fails has no endpoints (not known), not an empty list (no containers)', async () => {
  const list = JSON.parse(fixture('docker-networks.json')) as { Id: string; Name: string }[];
  const server = await unixServer((req, res) => {
    const one = list.find((n) => req.url === `/networks/${n.Id}`);
    if (one?.Name === 'bridge') return void res.writeHead(500).end('{"message":"boom"}');
    const body = one === undefined ? JSON.stringify(list.map((n) => ({ ...n, Containers: {} }))) : JSON.stringify({ ...one, Containers: {} });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  });
  try {
    const got = await fetchDockerNetworks(server.socket);
    assert.ok(got.ok, JSON.stringify(got));
    const networks = parseDockerNetworks(got.stdout);
    assert.equal(networks.find((n) => n.name === 'bridge')?.endpoints, undefined, 'inspect failed: not known');
    assert.ok(networks.filter((n) => n.name !== 'bridge').every((n) => Array.isArray(n.endpoints) && n.endpoints.length === 0), 'inspected: no containers');
  } finally {
    await server.close();
  }
});

test('Docker API client: GET /networks over the unix socket; missing socket, HTTP error and silence are reasons', async () => {
  // The list leaves endpoints out; each network is inspected for them (GET /networks/ID).
  const list = JSON.parse(fixture('docker-networks.json')) as { Id: string; Name: string }[];
  const ok = await unixServer((req, res) => {
    const one = list.find((n) => req.url === `/networks/${n.Id}`);
    const body = one === undefined ? JSON.stringify(list) : JSON.stringify({ ...one, Containers: one.Name === 'bridge' ? { abc: { Name: 'web-1', IPv4Address: '172.17.0.2/16', IPv6Address: '' } } : {} });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  });
  try {
    const got = await fetchDockerNetworks(ok.socket);
    assert.ok(got.ok, JSON.stringify(got));
    const networks = parseDockerNetworks(got.stdout);
    assert.equal(networks.length, 6);
    assert.deepEqual(networks.find((n) => n.name === 'bridge')?.endpoints, [{ name: 'web-1', addresses: ['172.17.0.2'] }]);
    assert.deepEqual(ok.requests, ['GET /networks', ...list.map((n) => `GET /networks/${n.Id}`)]);
  } finally {
    await ok.close();
  }

  const missing = path.join(os.tmpdir(), `synscope-no-such-${process.pid}.sock`);
  assert.deepEqual(await fetchDockerNetworks(missing), { ok: false, reason: `no socket at ${missing}` });

  const failing = await unixServer((_req, res) => res.writeHead(500).end('{"message":"boom"}'));
  try {
    assert.deepEqual(await fetchDockerNetworks(failing.socket), { ok: false, reason: `HTTP 500 from ${failing.socket} GET /networks` });
  } finally {
    await failing.close();
  }

  const silent = await unixServer(() => undefined);
  try {
    const started = Date.now();
    const got = await fetchDockerNetworks(silent.socket, 300);
    assert.deepEqual(got, { ok: false, reason: `no answer from ${silent.socket} within 0.3 s` });
    assert.ok(Date.now() - started < 2000);
  } finally {
    await silent.close();
  }
});

/** A runner that replays the recorded `ip -j` outputs and refuses everything else. */
const IP_FIXTURES: Record<string, string> = {
  'ip -j -d link show': 'ip-link.json',
  'ip -j addr show': 'ip-addr.json',
  'ip -j -4 route show table all': 'ip-route-4.json',
  'ip -j -6 route show table all': 'ip-route-6.json',
  'ip -j -4 rule show': 'ip-rule-4.json',
  'ip -j -6 rule show': 'ip-rule-6.json',
};

function replay(overrides: Record<string, CommandOutcome> = {}): CommandRunner {
  return async (file, args) => {
    const cmd = [file, ...args].join(' ');
    const over = overrides[cmd];
    if (over !== undefined) return over;
    const name = IP_FIXTURES[cmd];
    if (name !== undefined) return { ok: true, stdout: fixture(name) };
    return { ok: false, reason: `${file}: command not found`, missing: true };
  };
}

const PROC: Record<string, string> = {
  '/proc/net/netstat': fixture('proc-net-netstat.txt'),
  '/proc/net/snmp': fixture('proc-net-snmp.txt'),
  '/proc/sys/kernel/osrelease': '6.1.0-18-amd64\n',
  '/proc/sys/kernel/hostname': 'docker-host-1\n',
  '/proc/sys/net/netfilter/nf_conntrack_count': '12\n',
  '/proc/sys/net/netfilter/nf_conntrack_max': '262144\n',
  '/proc/sys/net/ipv4/tcp_timestamps': '1\n',
  '/proc/sys/net/ipv4/conf/all/rp_filter': '1\n',
  '/proc/sys/net/ipv4/conf/eth0/rp_filter': '2\n',
  '/proc/net/tcp':
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
    '   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0\n',
};

test('collect: joins every source; recorded ip outputs plus a Docker API on a unix socket', async () => {
  const info = '{"Swarm":{"NodeAddr":"192.168.0.10","LocalNodeState":"active","ControlAvailable":true,"RemoteManagers":[{"Addr":"192.168.0.10:2377"}],"Nodes":1,"Managers":1}}';
  // GET /containers/json lists one running container; its inspect asks for -p 8082:80 that Docker did not publish.
  const inspect = '{"Name":"/app","HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8082"}]}},"NetworkSettings":{"Ports":{},"Networks":{"backend":{}}}}';
  const answers: Record<string, string> = { '/info': info, '/containers/json': '[{"Id":"c0ffee","Ports":[],"HostConfig":{"NetworkMode":"backend"}},{"Id":"beef","Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"}]},{"Id":"cafe","Ports":[],"HostConfig":{"NetworkMode":"host"}}]', '/containers/c0ffee/json': inspect };
  const docker = await unixServer((req, res) => res.writeHead(200).end(answers[req.url ?? ''] ?? fixture('docker-networks.json')));
  try {
    const ctx = await collectHostContext({
      dockerSocket: docker.socket,
      namespaceLabel: 'lab',
      run: replay({
        'iptables-save': {
          ok: true,
          stdout: '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n*nat\n-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\nCOMMIT\n*raw\nCOMMIT\n',
        },
      }),
      readFile: (p) => PROC[p] ?? null,
      listDir: (p) => (p === '/proc/sys/net/ipv4/conf' ? ['all', 'default', 'lo', 'eth0', 'docker0'] : null),
      now: () => new Date('2024-03-19T15:00:00Z'),
    });
    assert.equal(ctx.schema, 'synscope.context/1');
    assert.equal(ctx.capturedAt, '2024-03-19T15:00:00.000Z');
    assert.deepEqual([ctx.hostname, ctx.namespace, ctx.kernelRelease], ['docker-host-1', 'lab', '6.1.0-18-amd64']);
    assert.deepEqual(ctx.interfaces.map((i) => i.index), [1, 2, 3, 4, 5, 6, 7, 8, 44], 'sorted by index');
    assert.deepEqual(byName(ctx.interfaces, 'docker0').addresses[0], { family: 4, address: '172.17.0.1', prefixLength: 16 });
    assert.equal(ctx.routes.filter((r) => r.destination === '192.168.0.0/24' && r.table === 'main').length, 2);
    assert.equal(ctx.routes.length, parseIpRoute(fixture('ip-route-4.json'), 4).length + parseIpRoute(fixture('ip-route-6.json'), 6).length);
    assert.equal(ctx.rules.length, 14);
    assert.equal(ctx.dockerNetworks?.find((n) => n.name === 'bridge')?.bridge, 'docker0');
    assert.deepEqual(ctx.conntrack, { count: 12, max: 262144 });
    assert.deepEqual(ctx.listeners, ['0.0.0.0:22'], 'tcp read, tcp6 absent (IPv6 off) is no loss');
    assert.deepEqual(ctx.dockerSwarm, { localNodeState: 'active', controlAvailable: true, nodeAddress: '192.168.0.10', managers: 1, nodes: 1, remoteManagers: ['192.168.0.10:2377'] });
    assert.deepEqual(docker.requests.filter((r) => !r.startsWith('GET /networks/')).sort(), ['GET /containers/c0ffee/json', 'GET /containers/json', 'GET /info', 'GET /networks']);
    assert.deepEqual(ctx.dockerPorts, [{ container: 'app', containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: 8082, published: false, networks: ['backend'] }]);
    assert.equal(
      ctx.natRules.iptables,
      '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n*nat\n-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE\nCOMMIT\n*raw\nCOMMIT\n',
      'every table iptables-save printed, raw too, in its order',
    );
    assert.equal(ctx.natRules.nft, null);
    assert.equal(ctx.counters['TcpExt.ListenOverflows'], 0);
    assert.equal(ctx.counters['Ip.Forwarding'], 2);
    assert.equal(ctx.sysctls['net.ipv4.conf.eth0.rp_filter'], '2');
    assert.deepEqual(ctx.unavailable.map((u) => u.source).sort(), [
      'nft',
      'sysctl net.bridge.bridge-nf-call-iptables',
      'sysctl net.ipv4.ip_forward',
      'sysctl net.ipv4.tcp_tw_recycle',
    ]);
    // What collect writes, load reads back unchanged.
    assert.deepEqual(parseHostContext(JSON.stringify(ctx), 'ctx.json'), JSON.parse(JSON.stringify(ctx)));
  } finally {
    await docker.close();
  }
});

test('collect: a host with nothing (no ip, no Docker, no /proc) gives an empty snapshot and the reasons', async () => {
  const socket = path.join(os.tmpdir(), `synscope-none-${process.pid}.sock`);
  const ctx = await collectHostContext({ dockerSocket: socket, namespaceLabel: 'x', run: replay({ 'ip -j -d link show': { ok: false, reason: 'ip: command not found', missing: true } }), readFile: () => null, listDir: () => null });
  assert.deepEqual([ctx.interfaces, ctx.routes, ctx.rules, ctx.dockerNetworks, ctx.conntrack, ctx.kernelRelease], [[], [], [], null, null, null]);
  assert.deepEqual(ctx.natRules, { iptables: null, nft: null });
  const reasons = Object.fromEntries(ctx.unavailable.map((u) => [u.source, u.reason]));
  assert.match(reasons['ip'] ?? '', /command not found/);
  assert.equal(reasons['docker'], `no socket at ${socket}`);
  assert.match(reasons['iptables-save'] ?? '', /command not found/);
  assert.match(reasons['/proc/net/netstat'] ?? '', /cannot read/);
  assert.match(reasons['conntrack'] ?? '', /nf_conntrack/);
  assert.match(reasons['kernel release'] ?? '', /osrelease/);
  assert.equal(ctx.unavailable.filter((u) => u.source === 'ip' || u.source.startsWith('ip ')).length, 1, 'a missing ip is one entry, not six');
});

test('collect: output that is not JSON, or a failing ip subcommand, is recorded per source', async () => {
  const ctx = await collectHostContext({
    dockerSocket: path.join(os.tmpdir(), `synscope-none-${process.pid}.sock`),
    namespaceLabel: 'x',
    run: replay({
      'ip -j addr show': { ok: true, stdout: 'Option "-j" is unknown, try "ip -help".' },
      'ip -j -6 route show table all': { ok: false, reason: 'ip exited with 2: RTNETLINK answers: Address family not supported by protocol' },
    }),
    readFile: () => null,
    listDir: () => null,
  });
  const reasons = Object.fromEntries(ctx.unavailable.map((u) => [u.source, u.reason]));
  assert.match(reasons['ip addr'] ?? '', /not JSON/);
  assert.match(reasons['ip -6 route'] ?? '', /Address family not supported/);
  assert.equal(ctx.interfaces.length, 9, 'interfaces still come from ip link');
  assert.ok(ctx.interfaces.every((i) => i.addresses.length === 0));
  assert.ok(ctx.routes.length > 0 && ctx.routes.every((r) => r.family === 4));
});

function badContext(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseHostContext(text, 'host.json'),
    (e: unknown) => isSynscopeError(e) && e.code === 'ERR_BAD_CONTEXT' && e.file === 'host.json' && pattern.test(e.message),
  );
}

test('load: schema and field checks name the file and the field; hand-written minimal snapshots load', () => {
  badContext('{"schema": "synscope.context/1",', /not JSON/);
  badContext('[]', /JSON object/);
  badContext('{"interfaces": []}', /no "schema"/);
  badContext('{"schema": "synscope.context/2"}', /"synscope.context\/2" is not "synscope.context\/1"/);
  badContext('{"schema": "synscope.context/1", "routes": {}}', /^\/routes: must be array$/);
  const route = { table: 'main', family: 4, type: 'unicast', destination: '192.168.0.0/24', gateway: null, device: 'eth0', metric: 0, source: null, scope: 'link', protocol: 'kernel' };
  badContext(JSON.stringify({ schema: 'synscope.context/1', routes: [route, { ...route, destination: '192.168.0.0' }] }), /^\/routes\/1\/destination: must be an IPv4 CIDR/);
  badContext(JSON.stringify({ schema: 'synscope.context/1', routes: [{ ...route, gateway: 'eth0' }] }), /^\/routes\/0\/gateway: must be an IPv4 or IPv6 address, or null/);
  badContext(
    JSON.stringify({ schema: 'synscope.context/1', interfaces: [{ name: 'docker0', index: 3, kind: 'bridge', mac: null, mtu: 1500, up: true, master: null, ports: [], addresses: [{ family: 4, address: '172.17.0.1/16', prefixLength: 16 }] }] }),
    /^\/interfaces\/0\/addresses\/0\/address: must be an IPv4 address/,
  );
  badContext(JSON.stringify({ schema: 'synscope.context/1', dockerNetworks: [{ id: 'x', name: 'n', driver: 'bridge', scope: 'local', subnets: ['172.20.0.0'], gateways: [], bridge: 'br-x', ingress: false, internal: false }] }), /^\/dockerNetworks\/0\/subnets\/0: must be a CIDR/);

  badContext(JSON.stringify({ schema: 'synscope.context/1', dockerSwarm: { localNodeState: 'active', controlAvailable: 'yes', nodeAddress: null, managers: 3, nodes: 3, remoteManagers: [] } }), /^\/dockerSwarm\/controlAvailable: must be boolean/);
  badContext(JSON.stringify({ schema: 'synscope.context/1', dockerSwarm: { localNodeState: 'active', controlAvailable: true, nodeAddress: null, managers: '3', nodes: 3, remoteManagers: [] } }), /^\/dockerSwarm\/managers: must be integer/);
  const minimal = parseHostContext(JSON.stringify({ schema: 'synscope.context/1', routes: [route] }), 'hand.json');
  assert.deepEqual(minimal.routes, [route]);
  assert.deepEqual([minimal.interfaces, minimal.rules, minimal.dockerNetworks, minimal.unavailable, minimal.conntrack], [[], [], null, [], null]);
  assert.deepEqual(minimal.natRules, { iptables: null, nft: null });

  const missing = path.join(os.tmpdir(), `synscope-no-such-context-${process.pid}.json`);
  assert.throws(() => loadHostContext(missing), (e: unknown) => isSynscopeError(e) && e.code === 'ERR_READ_FAILED' && e.file === missing);
});

test('collect: iptables-save (nft) noting legacy tables beside its own says so in unavailable: the listings are not the whole ruleset', async () => {
  const socket = path.join(os.tmpdir(), `synscope-none-${process.pid}.sock`);
  const saved = '# Generated by iptables-nft-save v1.8.9 on Mon Dec  7 04:00:00 2026\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n';
  const ctx = await collectHostContext({ dockerSocket: socket, namespaceLabel: 'x', run: replay({ 'iptables-save': { ok: true, stdout: saved } }), readFile: () => null, listDir: () => null });
  assert.equal(ctx.natRules.iptables, '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n');
  assert.match(ctx.unavailable.find((u) => u.source === 'iptables-legacy-save')?.reason ?? '', /legacy tables are present/);
});
