import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { resolveScenarioArgs } from '../src/regress/expectation';
import { findScenarios } from '../src/regress/find-scenarios';
import { REPO, runCli } from './cli-harness';
import type { HostContext, NetInterface } from '../src/context/host-context';
import { LinkMacs } from '../src/evidence/link-macs';
import { matchContext, type CaptureFacts } from '../src/context/match-capture';
import type { MacSighting } from '../src/diagnose/input';
import { iface, makeContext } from './context-fixtures';

const CAPTURE_AT = Date.parse('2026-11-22T13:00:00Z') / 1000;
const ETH0_MAC = '02:00:00:00:00:e0';
const DOCKER0_MAC = '02:00:00:00:00:d0';
const CLIENT_MAC = '02:00:00:00:00:c1';

function withIndex(i: NetInterface, index: number, mac: string | null): NetInterface {
  return { ...i, index, mac };
}

/** The host the capture comes from: eth0 192.0.2.1, docker0 172.17.0.1, a container's veth on docker0. */
function host(parts: Partial<HostContext> = {}): HostContext {
  return makeContext({
    capturedAt: '2026-11-22T13:05:00.000Z',
    interfaces: [
      withIndex(iface('lo', 'loopback', ['127.0.0.1/8']), 1, '00:00:00:00:00:00'),
      withIndex(iface('eth0', 'physical', ['192.0.2.1/24']), 2, ETH0_MAC),
      withIndex(iface('docker0', 'bridge', ['172.17.0.1/16']), 3, DOCKER0_MAC),
      withIndex(iface('veth1a2b3c', 'veth', [], 'docker0'), 7, '02:00:00:00:00:7e'),
    ],
    ...parts,
  });
}

function sighting(mac: string, on: string): MacSighting {
  return { mac, interface: on, packets: 2 };
}

/** A capture on eth0 and docker0: the host answers on eth0 and ARPs on docker0. */
function facts(parts: Partial<CaptureFacts> = {}): CaptureFacts {
  return {
    firstAt: CAPTURE_AT,
    lastAt: CAPTURE_AT + 30,
    macsByAddress: new Map([
      ['192.0.2.1', [sighting(ETH0_MAC, 'eth0')]],
      ['198.51.100.7', [sighting(CLIENT_MAC, 'eth0')]],
      ['172.17.0.1', [sighting(DOCKER0_MAC, 'docker0')]],
    ]),
    statedNames: ['eth0', 'docker0'],
    linkMacs: new Map([
      ['eth0', [CLIENT_MAC, ETH0_MAC]],
      ['docker0', [DOCKER0_MAC, '02:42:ac:11:00:02']],
    ]),
    outgoingMacs: new Map(),
    ...parts,
  };
}

test('a snapshot of the capturing host, taken minutes later, matches', () => {
  const m = matchContext(host(), facts());
  assert.equal(m.verdict, 'match');
  assert.deepEqual(m.conflicts, []);
  assert.ok(m.agreements.some((a) => a.includes('192.0.2.1') && a.includes(ETH0_MAC)), m.agreements.join('; '));
  assert.ok(m.agreements.some((a) => a.startsWith('frames on eth0')), m.agreements.join('; '));
});

test('a snapshot of another host (other MACs, other addresses) does not match', () => {
  const other = makeContext({
    capturedAt: '2026-11-22T13:05:00.000Z',
    interfaces: [
      withIndex(iface('eth0', 'physical', ['10.9.0.5/24']), 2, '52:54:00:12:34:56'),
      withIndex(iface('docker0', 'bridge', ['172.17.0.1/16']), 3, '02:42:9f:00:00:01'),
    ],
  });
  const m = matchContext(other, facts());
  assert.equal(m.verdict, 'mismatch');
  // The bridge gateway address is the same on every Docker host; its MAC is not.
  assert.ok(m.conflicts.some((c) => c.includes('172.17.0.1') && c.includes(DOCKER0_MAC)), m.conflicts.join('; '));
  assert.ok(m.conflicts.some((c) => c.includes('eth0 has MAC 52:54:00:12:34:56')), m.conflicts.join('; '));
});

test('a snapshot of another host is told apart by eth0 alone, even when no own address shows', () => {
  const other = makeContext({ capturedAt: '2026-11-22T13:05:00.000Z', interfaces: [withIndex(iface('eth0', 'physical', ['10.9.0.5/24']), 2, '52:54:00:12:34:56')] });
  const m = matchContext(other, facts({ macsByAddress: new Map([['198.51.100.7', [sighting(CLIENT_MAC, 'eth0')]]]), statedNames: ['eth0'], linkMacs: new Map([['eth0', [CLIENT_MAC, ETH0_MAC]]]) }));
  assert.equal(m.verdict, 'mismatch');
});

test('a snapshot a week older than the capture does not match, whatever the MACs say', () => {
  const m = matchContext(host({ capturedAt: '2026-11-15T13:00:00.000Z' }), facts());
  assert.equal(m.verdict, 'mismatch');
  assert.deepEqual(m.conflicts, ['the snapshot was taken 7.0 days before the capture began']);
  assert.equal(matchContext(host({ capturedAt: '2026-11-15T13:00:00.000Z' }), facts(), 8 * 86400).verdict, 'match', 'the window is an option');
});

test('a snapshot taken the next morning still matches; a capture the snapshot cannot be compared with is unchecked', () => {
  assert.equal(matchContext(host({ capturedAt: '2026-11-23T08:00:00.000Z' }), facts()).verdict, 'match');
  const silent = facts({ macsByAddress: new Map([['198.51.100.7', [sighting(CLIENT_MAC, 'eth0')]]]), linkMacs: new Map(), statedNames: [] });
  const m = matchContext(host(), silent);
  assert.equal(m.verdict, 'unchecked');
  assert.deepEqual(m.conflicts, []);
});

test('a bridge and its ports show other hosts\' frames: no conflict from them', () => {
  const m = matchContext(host(), facts({ linkMacs: new Map([['docker0', ['02:42:ac:11:00:02', '02:42:ac:11:00:03']], ['veth1a2b3c', ['02:42:ac:11:00:02']]]), statedNames: ['docker0', 'veth1a2b3c'] }));
  assert.notEqual(m.verdict, 'mismatch', m.conflicts.join('; '));
});

test("a Docker macvlan network's parent shows its children's frames: no conflict from them, but only on that parent", () => {
  const lan = { id: 'n1', name: 'lan', driver: 'macvlan', scope: 'local', subnets: ['192.0.2.0/24'], gateways: [], bridge: null, ingress: false, internal: false, parent: 'eth0' };
  const children = facts({ macsByAddress: new Map(), statedNames: ['eth0'], linkMacs: new Map([['eth0', [CLIENT_MAC, '02:42:c0:00:02:32']]]) });
  assert.equal(matchContext(host({ dockerNetworks: [lan] }), children).verdict, 'unchecked');
  assert.equal(matchContext(host({ dockerNetworks: [{ ...lan, parent: 'eth1' }] }), children).verdict, 'mismatch');
  assert.equal(matchContext(host({ dockerNetworks: [{ ...lan, driver: 'bridge', parent: undefined }] }), children).verdict, 'mismatch');
});

test('an any-device capture: what the host sent on each ifindex carries that interface\'s MAC', () => {
  const sll = facts({ statedNames: [], linkMacs: new Map(), macsByAddress: new Map(), outgoingMacs: new Map([[2, [ETH0_MAC]], [3, [DOCKER0_MAC]], [7, [DOCKER0_MAC]]]) });
  const m = matchContext(host(), sll);
  assert.equal(m.verdict, 'match', m.conflicts.join('; '));
  assert.equal(m.agreements.length, 2, 'ifindex 7 is a bridge port: it forwards docker0\'s frames');
  const swapped = matchContext(host(), { ...sll, outgoingMacs: new Map([[2, [DOCKER0_MAC]], [3, [ETH0_MAC]]]) });
  assert.equal(swapped.verdict, 'mismatch');
  assert.match(swapped.conflicts[0]!, /ifindex 2 is eth0 in the snapshot/);
  const unknown = matchContext(host(), { ...sll, outgoingMacs: new Map([[41, [ETH0_MAC]]]) });
  assert.equal(unknown.verdict, 'mismatch');
  assert.match(unknown.conflicts[0]!, /none of the interfaces .* \(ifindex 41\)/);
});

test('captured interface names the snapshot lacks entirely are a conflict; one vanished veth is not', () => {
  assert.equal(matchContext(host(), facts({ statedNames: ['ens3'], linkMacs: new Map(), macsByAddress: new Map() })).verdict, 'mismatch');
  assert.equal(matchContext(host(), facts({ statedNames: ['eth0', 'vethdeadbee'] })).verdict, 'match');
});

test('every stored scenario\'s snapshot matches its capture: no warning about it', async () => {
  let checked = 0;
  for (const sc of findScenarios(path.join(REPO, 'captures'))) {
    const expect = JSON.parse(fs.readFileSync(sc.expectFile!, 'utf8')) as { args?: string[] };
    const args = resolveScenarioArgs(expect.args ?? [], sc.dir, fs.existsSync);
    if (!args.includes('--context')) continue;
    checked++;
    const files = args.includes('--host') ? [] : sc.captures;
    const r = await runCli('analyze', ...files, ...args, '--json');
    assert.equal(r.code, 0, r.stderr);
    const warnings = (JSON.parse(r.stdout) as { warnings: string[] }).warnings;
    assert.deepEqual(warnings.filter((w) => /host context/.test(w)), [], sc.name);
  }
  assert.ok(checked >= 7, `${checked} scenarios with a snapshot`);
});

test('an interface that only heard broadcasts (ARP requests the host never answered) is not compared', () => {
  const links = new LinkMacs();
  const mac = (text: string) => parseInt(text.replace(/:/g, ''), 16);
  links.note(0, mac(CLIENT_MAC), mac('ff:ff:ff:ff:ff:ff'));
  links.note(1, mac(CLIENT_MAC), mac('ff:ff:ff:ff:ff:ff'));
  links.note(1, mac(CLIENT_MAC), mac(ETH0_MAC));
  assert.deepEqual([...links.named(['eth1', 'eth0'])], [['eth0', [CLIENT_MAC, ETH0_MAC]]]);
  assert.equal(matchContext(host(), facts({ linkMacs: links.named(['eth1', 'eth0']), statedNames: ['eth0', 'eth1'] })).verdict, 'match');
});
