import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import type { HostContext } from '../src/context/host-context';
import { loadHostContext } from '../src/context/load';
import { REPO } from './cli-harness';

/**
 * docker-real-macvlan-host (a container on docker0 dials a macvlan child of the node's eth0,
 * whose ARP never comes back) as captures that kept less than the whole story: the node's
 * ICMP host unreachable filtered out or its quote cut, or no ARP. The cause is the same.
 */
function analyzeCut(cut: string, edit: (ctx: HostContext) => HostContext = (c) => c) {
  const context = edit(loadHostContext(path.join(REPO, 'captures', 'docker-real-macvlan-host', 'context.json')));
  return analyzeFiles([path.join(REPO, 'test', 'fixtures', 'capture', `docker-real-macvlan-host-${cut}.pcapng`)], { context, bridges: bridgesFromContext(context) });
}

const notable = (a: ReturnType<typeof analyzeCut>) => a.findings.filter((f) => f.severity !== 'info').map((f) => [f.code, f.severity, f.confidence]);

for (const [cut, what] of [
  ['port80', "a 'tcp port 80' capture filter (no ICMP, no ARP)"],
  ['snap54', 'a snap length of 54 bytes (the ICMP error kept, its quote cut before the ports)'],
]) {
  test(`${what}: the silence is the macvlan child this host cannot reach, not a NAT hop or a firewall`, () => {
    const a = analyzeCut(cut);
    assert.deepEqual(notable(a), [['filtered', 'error', 'high']]);
    const f = a.findings[0]!;
    assert.match(f.title, /this host cannot reach web, a child of its eth0 on Docker's macvlan network "lan"$/);
    assert.deepEqual([f.evidence.droppedBy, f.evidence.routedOutOf, f.evidence.container, f.evidence.clients], ['unresolved-neighbour', 'eth0', 'web', ['172.17.0.2']]);
    assert.match(f.remedy[0]!, /ip link add lan-shim link eth0 type macvlan mode bridge; .* ip route add 192\.0\.2\.50\/32 dev lan-shim\.$/);
    assert.notEqual(a.contextMatch, 'mismatch');
  });
}

test('the ARP of the whole capture kept: its count is the evidence', () => {
  const f = analyzeCut('snap54').findings[0]!;
  assert.deepEqual([f.evidence.arpRequests, f.evidence.arpReplies], [5, 1]);
  assert.equal(analyzeCut('port80').findings[0]!.evidence.arpRequests, null);
});

test('a snap length of 68 bytes keeps the quoted ports and cuts the sequence number: the ICMP error still answers the SYN, the whole capture\'s verdict', () => {
  const a = analyzeCut('snap68');
  assert.deepEqual(notable(a), [['rejected', 'warning', 'high']]);
  assert.deepEqual([a.findings[0]!.evidence.refusedBy, a.findings[0]!.evidence.container], ['192.0.2.1', 'web']);
});

test("'tcp or icmp' (no ARP): the node's own host unreachable still names the macvlan child, and eth0's children's frames do not disown the snapshot", () => {
  const a = analyzeCut('tcp-icmp');
  assert.deepEqual(notable(a), [['rejected', 'warning', 'high']]);
  assert.equal(a.findings[0]!.evidence.container, 'web');
  assert.match(a.findings[0]!.explanation, /eth0's ARP is not in the capture/);
  assert.equal(a.contextMatch, 'unchecked');
});

test('without the macvlan network in the snapshot the silence stays unexplained: filtered names no cause it cannot show', () => {
  const a = analyzeCut('port80', (c) => ({ ...c, dockerNetworks: (c.dockerNetworks ?? []).filter((n) => n.driver !== 'macvlan') }));
  const f = a.findings.find((x) => x.code === 'filtered' || x.code === 'nat-path-break');
  assert.ok(f !== undefined, a.findings.map((x) => x.code).join());
  assert.equal(f.evidence.droppedBy, undefined);
  assert.doesNotMatch(f.title, /macvlan/);
});
