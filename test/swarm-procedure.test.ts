import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerSwarm } from '../src/context/docker-swarm';
import type { DockerSwarm } from '../src/context/host-context';
import { isSynscopeError } from '../src/errors';
import { gwbridgeProcedure, swarmRole } from '../src/diagnose/swarm-procedure';

const CREATE =
  'docker network create --subnet 10.200.0.0/20 --opt com.docker.network.bridge.name=docker_gwbridge --opt com.docker.network.bridge.enable_icc=false --opt com.docker.network.bridge.enable_ip_masquerade=true docker_gwbridge';

/** GET /info's Swarm object as Docker 20.10 answers it on a manager of a 3-node swarm with one manager (other fields left out). */
const MANAGER_INFO = JSON.stringify({
  ServerVersion: '20.10.24+dfsg1',
  Swarm: { NodeID: 'q1w2e3', NodeAddr: '10.100.1.100', LocalNodeState: 'active', ControlAvailable: true, Error: '', RemoteManagers: [{ NodeID: 'q1w2e3', Addr: '10.100.1.100:2377' }], Nodes: 3, Managers: 1 },
});
const swarm = (parts: Partial<DockerSwarm>): DockerSwarm => ({ localNodeState: 'active', controlAvailable: false, nodeAddress: '10.100.1.101', managers: null, nodes: null, remoteManagers: ['10.100.1.100:2377'], ...parts });

test('parseDockerSwarm: role fields from GET /info; a worker has no counts; no Swarm object is an error', () => {
  assert.deepEqual(parseDockerSwarm(MANAGER_INFO), {
    localNodeState: 'active', controlAvailable: true, nodeAddress: '10.100.1.100', managers: 1, nodes: 3, remoteManagers: ['10.100.1.100:2377'],
  });
  const worker = parseDockerSwarm('{"Swarm":{"NodeAddr":"10.100.1.101","LocalNodeState":"active","ControlAvailable":false,"RemoteManagers":[{"Addr":"10.100.1.100:2377"}]}}');
  assert.deepEqual([worker.controlAvailable, worker.managers, worker.nodes], [false, null, null]);
  assert.equal(parseDockerSwarm('{"Swarm":{"NodeAddr":"","LocalNodeState":"inactive","ControlAvailable":false,"RemoteManagers":null}}').nodeAddress, null);
  assert.throws(() => parseDockerSwarm('[]'), (e: unknown) => isSynscopeError(e) && e.code === 'ERR_BAD_HOST_OUTPUT');
});

test('swarmRole: worker, manager with others, the only manager of several nodes, a single-node swarm, none, unknown', () => {
  assert.equal(swarmRole(swarm({})), 'worker');
  assert.equal(swarmRole(swarm({ controlAvailable: true, managers: 3, nodes: 5 })), 'manager');
  assert.equal(swarmRole(parseDockerSwarm(MANAGER_INFO)), 'sole-manager');
  assert.equal(swarmRole(swarm({ controlAvailable: true, managers: 1, nodes: 1 })), 'single-node');
  assert.equal(swarmRole(swarm({ localNodeState: 'inactive' })), 'not-in-swarm');
  assert.equal(swarmRole(swarm({ localNodeState: 'locked' })), null);
  assert.equal(swarmRole(null), null);
});

test('a worker leaves, recreates docker_gwbridge and joins with a worker token at its manager', () => {
  const lines = gwbridgeProcedure('10.200.0.0/20', swarm({}));
  assert.match(lines[0]!, /It is a worker/);
  assert.deepEqual(lines.slice(2, 5).map((l) => l.trim().split('   ')[0]), ['docker swarm leave', 'docker network rm docker_gwbridge', CREATE]);
  assert.equal(lines[5]!.trim().split('   ')[0], 'docker swarm join --token <worker token> 10.100.1.100:2377');
  assert.ok(!lines.some((l) => l.includes('--force') || l.includes('swarm init') || l.includes('If ')));
});

test('a manager with other managers is demoted first, leaves without --force and joins with a manager token', () => {
  const lines = gwbridgeProcedure('10.200.0.0/20', swarm({ controlAvailable: true, managers: 3, nodes: 5, nodeAddress: '10.100.1.100', remoteManagers: ['10.100.1.100:2377', '10.100.1.102:2377'] }));
  assert.match(lines[0]!, /a manager and 2 other managers remain/);
  assert.match(lines[1]!, /docker node demote <this node>/);
  assert.equal(lines[2]!.trim(), 'docker swarm leave');
  assert.match(lines[5]!, /docker swarm join --token <manager token> 10\.100\.1\.102:2377/, 'through another manager, not itself');
  assert.ok(!lines.some((l) => l.includes('swarm init')));
});

test('the only manager of several nodes promotes another node before anything else', () => {
  const lines = gwbridgeProcedure('10.200.0.0/20', parseDockerSwarm(MANAGER_INFO));
  assert.match(lines[0]!, /only manager of 3 nodes/);
  assert.equal(lines[1]!.trim(), 'docker node promote <another node>');
  assert.ok(lines.some((l) => l.includes('docker node demote')));
});

test('a single-node swarm leaves with --force and is created again with swarm init, not join', () => {
  const lines = gwbridgeProcedure('10.200.0.0/20', swarm({ controlAvailable: true, managers: 1, nodes: 1, nodeAddress: '10.100.1.100' }));
  assert.match(lines[0]!, /single-node swarm/);
  assert.deepEqual(lines.slice(2, 6).map((l) => l.trim().split('   ')[0]), ['docker swarm leave --force', 'docker network rm docker_gwbridge', CREATE, 'docker swarm init --advertise-addr 10.100.1.100']);
  assert.ok(!lines.some((l) => l.includes('swarm join')));
});

test('a single-node swarm: the services come back once the old swarm\'s overlay networks are gone (Docker 20.10 lists them a few seconds after init)', () => {
  const lines = gwbridgeProcedure('10.200.0.0/20', swarm({ controlAvailable: true, managers: 1, nodes: 1, nodeAddress: '10.100.1.100' }));
  const last = lines[lines.length - 1]!.trim();
  assert.equal(last.split('   ')[0], 'create the services, secrets, configs and overlay networks noted above again');
  assert.match(last, /until docker network ls no longer shows it, creating it again fails with "already exists"/);
});

test('role unknown: the three procedures, each labelled; no swarm: only the recreation', () => {
  const lines = gwbridgeProcedure('10.200.0.0/20', undefined);
  const labels = lines.filter((l) => l.startsWith('If '));
  assert.equal(labels.length, 3);
  assert.match(labels[0]!, /worker/);
  assert.match(labels[1]!, /manager and other managers remain/);
  assert.match(labels[2]!, /single-node swarm/);
  assert.equal(lines.filter((l) => l.trim() === CREATE).length, 3);
  assert.deepEqual(gwbridgeProcedure('10.200.0.0/20', swarm({ localNodeState: 'inactive' })).slice(1).map((l) => l.trim()), ['docker network rm docker_gwbridge', CREATE]);
});
