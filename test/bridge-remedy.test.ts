import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BridgeSubnet } from '../src/context/bridge';
import type { HostContext } from '../src/context/host-context';
import { bridgeRemedy } from '../src/diagnose/bridge-remedy';
import type { DiagnosisInput } from '../src/diagnose/input';
import { parseSubnet } from '../src/net/cidr';
import { iface, makeContext } from './context-fixtures';

/** bridgeRemedy reads the bridges given, the snapshot and the capture's addresses. */
function input(context: HostContext | null, seen: string[] = []): DiagnosisInput {
  return { bridges: [], context, seenAddresses: new Set(seen) } as unknown as DiagnosisInput;
}
const bridge = (name: string, subnet: string): BridgeSubnet => ({ name, subnet: parseSubnet(subnet)!, source: 'context' });

test('docker0 on 172.17.0.0/16: a /20 bip and a /18 pool, both off every subnet of the snapshot', () => {
  const ctx = makeContext({ interfaces: [iface('eth0', 'physical', ['10.200.0.9/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])] });
  const r = bridgeRemedy(input(ctx, ['10.200.64.3']), bridge('docker0', '172.17.0.0/16'), ['172.17.0.50']);
  assert.deepEqual([r.free?.subnet, r.pool?.subnet], ['10.200.16.0/20', '10.200.128.0/18']);
  assert.match(r.remedy[0]!, /"bip": "10\.200\.16\.1\/20", "default-address-pools": \[\{ "base": "10\.200\.128\.0\/18", "size": 24 \}\]/);
});

test('docker_gwbridge: the procedure for the role the snapshot knows, else all three', () => {
  const single = makeContext({ dockerSwarm: { localNodeState: 'active', controlAvailable: true, nodeAddress: '192.0.2.1', managers: 1, nodes: 1, remoteManagers: ['192.0.2.1:2377'] } });
  const known = bridgeRemedy(input(single), bridge('docker_gwbridge', '172.18.0.0/16'), ['172.18.0.77']).remedy;
  assert.ok(known.some((l) => l.trim().startsWith('docker swarm init --advertise-addr 192.0.2.1')));
  assert.ok(!known.some((l) => l.includes('swarm join') || l.startsWith('If ')));
  assert.match(known[known.length - 1]!, /default-address-pools/);
  const unknown = bridgeRemedy(input(makeContext()), bridge('docker_gwbridge', '172.18.0.0/16'), ['172.18.0.77']).remedy;
  assert.equal(unknown.filter((l) => l.startsWith('If ')).length, 3);
});

const dockerNet = (name: string, bridgeName: string, subnet: string, containers: string[]) => ({
  id: 'db50fc319c3d' + '0'.repeat(52), name, driver: 'bridge', scope: 'local', subnets: [subnet], gateways: [], bridge: bridgeName,
  ingress: false, internal: false, endpoints: containers.map((c, i) => ({ name: c, addresses: [`192.168.0.${i + 2}`] })),
});

test('a user network is recreated and removed by its Docker name (docker network rm takes no bridge name)', () => {
  // Applied on docker.io 20.10 (test/docker-remedies.test.ts): `docker network rm br-db50fc319c3d` fails, the name or the ID works.
  const ctx = makeContext({ dockerNetworks: [dockerNet('stack_default', 'br-db50fc319c3d', '192.168.0.0/20', ['stack_web_1'])] });
  const [line] = bridgeRemedy(input(ctx), bridge('br-db50fc319c3d', '192.168.0.0/20'), ['192.168.5.20']).remedy;
  assert.match(line!, /^Recreate the network stack_default \(bridge br-db50fc319c3d\) on a free subnet: docker network create --subnet 10\.200\.0\.0\/20 <new name>, .* then docker network rm stack_default\.$/);
  // Each container by name: connected to the new network first (its published ports follow), then off the old one.
  assert.match(line!, /move the containers to it \(docker network connect <new name> stack_web_1; docker network disconnect stack_default stack_web_1; or in compose: /);
  // Without a snapshot, br-<id12> is the start of the network's ID, which docker network rm takes.
  const [bare] = bridgeRemedy(input(null), bridge('br-db50fc319c3d', '192.168.0.0/20'), ['192.168.5.20']).remedy;
  assert.match(bare!, /then docker network rm db50fc319c3d\.$/);
});

test('docker0: after the restart, the containers without a restart policy are started again, by name when the snapshot knows them', () => {
  // A restart of dockerd 20.10 leaves containers without a restart policy stopped (seen applying this remedy).
  const ctx = makeContext({ dockerNetworks: [dockerNet('bridge', 'docker0', '172.17.0.0/16', ['web', 'cache'])] });
  const [line] = bridgeRemedy(input(ctx), bridge('docker0', '172.17.0.0/16'), ['172.17.0.50']).remedy;
  assert.match(line!, /run: systemctl restart docker, then start the containers that have no restart policy \(they stay stopped\): docker start web cache\.$/);
  assert.match(bridgeRemedy(input(null), bridge('docker0', '172.17.0.0/16'), ['172.17.0.50']).remedy[0]!, /docker start <container>\.\.\.\.$/);
});
