import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DockerNetwork } from '../src/context/host-context';
import type { DiagnosisInput } from '../src/diagnose/input';
import { accepts, refusingListener } from '../src/diagnose/refusing-listener';
import { rejectedRule } from '../src/diagnose/rules/rejected';
import type { KernelEvidence } from '../src/evidence/kernel-evidence';
import { iface, makeContext, route } from './context-fixtures';
import { diagnosisInput } from './diagnosis-fixtures';
import { handMadeFlow } from './flow-fixtures';

const BRIDGE: DockerNetwork = {
  id: 'a1', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['172.17.0.0/16'], gateways: ['172.17.0.1'],
  bridge: 'docker0', ingress: false, internal: false, endpoints: [{ name: 'app', addresses: ['172.17.0.3'] }],
};

function host(listeners?: string[]) {
  return makeContext({
    interfaces: [iface('eth0', 'veth', ['192.0.2.1/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])],
    routes: [route('192.0.2.0/24 dev eth0'), route('172.17.0.0/16 dev docker0')],
    dockerNetworks: [BRIDGE],
    ...(listeners !== undefined && { listeners }),
  });
}

/** A live window's reading of app's namespace (pid 77), which owns 172.17.0.3. */
function kernel(listeners: string[] | undefined): KernelEvidence {
  return {
    counters: [{ namespace: 'host', seconds: 4, deltas: {}, addresses: ['192.0.2.1', '172.17.0.1'] }],
    events: [],
    unavailable: [],
    otherNamespaces: [{ namespace: 'pid:77', seconds: 4, deltas: {}, addresses: ['172.17.0.3'], ...(listeners !== undefined && { listeners }) }],
  };
}

function refused(serverIp: string, serverPort: number) {
  return handMadeFlow({
    id: 'f1', clientIp: '192.0.2.20', clientPort: 40000, serverIp, serverPort, outcome: 'rejected', syns: 1, synAcks: 0, interfaces: [0],
    rejection: { by: 'rst', from: serverIp, icmpType: null, icmpCode: null },
  });
}

function input(flow: ReturnType<typeof refused>, context: DiagnosisInput['context'], k: KernelEvidence | null = null): DiagnosisInput {
  return diagnosisInput({ failedFlows: [flow], interfaceNames: ['docker0'], context, kernel: k });
}

test('a container whose server listens on 127.0.0.1 only: named, with its listener, and told to listen on all addresses', () => {
  const i = input(refused('172.17.0.3', 80), host(), kernel(['127.0.0.1:80']));
  const r = refusingListener(i, i.failedFlows[0]!)!;
  assert.equal(r.where, 'container app (pid:77)');
  assert.deepEqual(r.listeners, ['127.0.0.1:80']);
  assert.match(r.sentence, /^Nothing listens on 172\.17\.0\.3:80 in container app \(pid:77\): it listens on 127\.0\.0\.1:80 only/);
  assert.match(r.remedy[0]!, /^Make the application in app listen on all addresses \(0\.0\.0\.0:80 or \[::\]:80\), not 127\.0\.0\.1:80/);
  const [f] = rejectedRule(i);
  assert.deepEqual([f!.code, f!.evidence['refusedIn'], f!.remedy], ['rejected', 'container app (pid:77)', r.remedy]);
});

test('a container listening on another port: publish that one', () => {
  const i = input(refused('172.17.0.3', 80), host(), kernel(['0.0.0.0:8000', '127.0.0.11:40000']));
  const r = refusingListener(i, i.failedFlows[0]!)!;
  assert.match(r.sentence, /Nothing listens on port 80 in container app \(pid:77\); it listens on 0\.0\.0\.0:8000, 127\.0\.0\.11:40000/);
  assert.match(r.remedy[0]!, /^Publish the port the application listens on: docker run -p HOST_PORT:8000/);
});

test('the host itself: its snapshot\'s listeners', () => {
  const i = input(refused('192.0.2.1', 8000), host(['0.0.0.0:22', '127.0.0.1:8000']));
  const r = refusingListener(i, i.failedFlows[0]!)!;
  assert.equal(r.where, 'this host');
  assert.match(r.remedy[0]!, /^Make the service listen on all addresses/);
});

test('something listens after all, or nobody knows: no claim, the generic RST advice stays', () => {
  const listening = input(refused('172.17.0.3', 80), host(), kernel(['[::]:80']));
  assert.equal(refusingListener(listening, listening.failedFlows[0]!), null);
  const unknown = input(refused('172.17.0.3', 80), host(), null);
  assert.equal(refusingListener(unknown, unknown.failedFlows[0]!), null);
  const olderFile = input(refused('172.17.0.3', 80), host(), kernel(undefined));
  assert.equal(refusingListener(olderFile, olderFile.failedFlows[0]!), null);
  const [f] = rejectedRule(unknown);
  assert.match(f!.remedy[0]!, /^Check that something listens on 172\.17\.0\.3 port 80/);
});

test('accepts: the address itself, 0.0.0.0 for IPv4, [::] for both, and only on its port', () => {
  assert.ok(accepts('172.17.0.3:80', '172.17.0.3', 80));
  assert.ok(accepts('0.0.0.0:80', '172.17.0.3', 80));
  assert.ok(accepts('[::]:80', '172.17.0.3', 80));
  assert.ok(!accepts('0.0.0.0:80', 'fd00::3', 80));
  assert.ok(!accepts('127.0.0.1:80', '172.17.0.3', 80));
  assert.ok(!accepts('0.0.0.0:8080', '172.17.0.3', 80));
});

/** Docker 20.10's nat rule for `-p 127.0.0.1:8081:80` (app). */
const PUBLISHED_LOCALHOST = '*nat\n:PREROUTING ACCEPT [0:0]\n:DOCKER - [0:0]\n-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER\n-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.3:80\nCOMMIT\n';

test('a port published on 127.0.0.1 only, dialled at the LAN address: the rule and the container named, publish it on all addresses', () => {
  const ctx = { ...host(['127.0.0.1:8081', '0.0.0.0:22']), natRules: { iptables: PUBLISHED_LOCALHOST, nft: null } };
  const i = input(refused('192.0.2.1', 8081), ctx);
  const r = refusingListener(i, i.failedFlows[0]!)!;
  assert.deepEqual([r.where, r.listeners, r.publishedOn?.addresses, r.publishedOn?.container], ['this host', ['127.0.0.1:8081'], ['127.0.0.1'], 'app']);
  assert.match(r.remedy[0]!, /recreate app with -p 8081:80 instead of -p 127\.0\.0\.1:8081:80 .* or with -p 192\.0\.2\.1:8081:80 for this address only\.$/);
  assert.ok(!r.remedy.some((line) => line.includes('listen on all addresses')));
  // Without the host's listeners (an older snapshot) nothing is said of what listens: no such finding.
  const unknown = { ...host(), natRules: { iptables: PUBLISHED_LOCALHOST, nft: null } };
  const j = input(refused('192.0.2.1', 8081), unknown);
  assert.equal(refusingListener(j, j.failedFlows[0]!), null);
});
