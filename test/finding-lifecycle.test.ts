import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding } from '../src/diagnose/finding';
import { FindingLifecycle, MAX_OPEN_FINDINGS, type WindowVerdicts } from '../src/watch/finding-lifecycle';
import { findingSubject } from '../src/watch/finding-subject';

const SERVICE = '10.0.0.5:9090';
const T0 = Date.UTC(2026, 11, 6, 7, 0, 0) / 1000;

function filtered(service = SERVICE, clients = ['10.0.1.7'], flowCount = 3): Finding {
  return {
    code: 'filtered',
    severity: 'error',
    confidence: 'medium',
    title: `${flowCount} attempts to ${service} got no answer at all`,
    explanation: '',
    evidence: { service, firstSeen: '2026-12-06T07:00:00.100Z', lastSeen: '2026-12-06T07:00:01.900Z' },
    flows: ['f1'],
    flowCount,
    clients,
    clientCount: clients.length,
    remedy: [],
  };
}

/** Window i, 2 s long; `completed` handshakes to SERVICE (and the same count in all). */
function windowOf(index: number, findings: Finding[], completed: number): WindowVerdicts {
  return {
    window: { index, start: T0 + 2 * index, end: T0 + 2 * index + 2 },
    findings,
    completedByService: new Map(completed > 0 ? [[SERVICE, completed]] : []),
    completed,
  };
}

test('a finding opens, goes on once a window while it fails, survives quiet windows, resolves after N healthy ones, and reopens', () => {
  const life = new FindingLifecycle('node-a', 2);
  const types = (w: WindowVerdicts) => life.observe(w).map((e) => e.type);

  const opened = life.observe(windowOf(0, [filtered()], 5));
  assert.equal(opened.length, 1);
  assert.deepEqual(opened[0], {
    type: 'finding-opened',
    body: {
      node: 'node-a',
      code: 'filtered',
      severity: 'error',
      title: `3 attempts to ${SERVICE} got no answer at all`,
      subject: SERVICE,
      subjectKind: 'service',
      clients: ['10.0.1.7'],
      clientCount: 1,
      flowCount: 3,
      firstSeen: '2026-12-06T07:00:00.100Z',
      lastSeen: '2026-12-06T07:00:01.900Z',
      window: { index: 0, start: '2026-12-06T07:00:00.000Z', end: '2026-12-06T07:00:02.000Z' },
    },
  });

  const ongoing = life.observe(windowOf(1, [filtered(SERVICE, ['10.0.1.8'], 4), filtered(SERVICE, ['10.0.1.9'], 2)], 0));
  assert.deepEqual(ongoing.map((e) => e.type), ['finding-ongoing'], 'two findings about one subject are one event');
  assert.equal(ongoing[0]!.body.flowCount, 6);
  assert.deepEqual(ongoing[0]!.body.clients, ['10.0.1.8', '10.0.1.9']);
  assert.equal(ongoing[0]!.body.firstSeen, '2026-12-06T07:00:00.100Z', 'firstSeen is kept from the opening window');

  assert.deepEqual(types(windowOf(2, [], 0)), [], 'a quiet window');
  assert.deepEqual(types(windowOf(3, [], 7)), [], 'one healthy window of two');
  assert.deepEqual(types(windowOf(4, [], 0)), [], 'quiet again: no resolution, no reset');
  assert.deepEqual([...life.openFindings()].map((f) => f.healthyStreak), [1]);

  const resolved = life.observe(windowOf(5, [], 7));
  assert.deepEqual(resolved.map((e) => e.type), ['finding-resolved']);
  assert.equal(resolved[0]!.body.healthyWindows, 2);
  assert.equal(resolved[0]!.body.flowCount, 0);
  assert.equal(resolved[0]!.body.window.index, 5);
  assert.deepEqual([...life.openFindings()], []);

  assert.deepEqual(types(windowOf(6, [filtered()], 1)), ['finding-opened'], 'a failure after resolution opens again');
});

test('a failing window in the middle of a healthy streak starts the streak again', () => {
  const life = new FindingLifecycle('n', 2);
  life.observe(windowOf(0, [filtered()], 1));
  assert.deepEqual(life.observe(windowOf(1, [], 3)), []);
  assert.deepEqual(life.observe(windowOf(2, [filtered()], 3)).map((e) => e.type), ['finding-ongoing']);
  assert.deepEqual(life.observe(windowOf(3, [], 3)), []);
  assert.deepEqual(life.observe(windowOf(4, [], 3)).map((e) => e.type), ['finding-resolved']);
});

test('completed attempts to another service do not resolve a service finding', () => {
  const life = new FindingLifecycle('n', 1);
  life.observe(windowOf(0, [filtered()], 0));
  const other: WindowVerdicts = { window: { index: 1, start: T0 + 2, end: T0 + 4 }, findings: [], completedByService: new Map([['10.0.0.5:9091', 50]]), completed: 50 };
  assert.deepEqual(life.observe(other), []);
  assert.equal([...life.openFindings()].length, 1);
});

test('one subject, two codes: two findings with their own lives', () => {
  const life = new FindingLifecycle('n', 1);
  const overflow: Finding = { ...filtered(), code: 'listen-overflow', severity: 'warning' };
  assert.deepEqual(life.observe(windowOf(0, [filtered(), overflow], 1)).map((e) => `${e.type} ${e.body.code}`), ['finding-opened filtered', 'finding-opened listen-overflow']);
  assert.deepEqual(life.observe(windowOf(1, [overflow], 1)).map((e) => `${e.type} ${e.body.code}`), ['finding-ongoing listen-overflow', 'finding-resolved filtered']);
});

test('open findings are bounded; the ones past the bound are counted', () => {
  const life = new FindingLifecycle('n', 1);
  const many = Array.from({ length: MAX_OPEN_FINDINGS + 5 }, (_, i) => filtered(`10.0.${i >> 8}.${i & 255}:80`));
  assert.equal(life.observe(windowOf(0, many, 0)).length, MAX_OPEN_FINDINGS);
  assert.equal(life.untracked, 5);
});

test('the subject of a finding: service, else bridge, else interface, else the clients subnet, else the host', () => {
  const f = (evidence: Record<string, unknown>, clients?: string[]) => findingSubject({ evidence, ...(clients !== undefined && { clients }) });
  assert.deepEqual(f({ service: '10.0.0.5:80', bridge: 'docker0' }), { kind: 'service', name: '10.0.0.5:80' });
  assert.deepEqual(f({ bridge: 'docker0', interface: 'eth0' }), { kind: 'bridge', name: 'docker0' });
  assert.deepEqual(f({ interface: 'eth0' }), { kind: 'interface', name: 'eth0' });
  assert.deepEqual(f({ subnet: '172.17.0.0/16' }, ['172.17.0.9']), { kind: 'client-subnet', name: '172.17.0.0/16' });
  assert.deepEqual(f({}, ['192.168.7.33', '192.168.7.40']), { kind: 'client-subnet', name: '192.168.7.0/24' });
  assert.deepEqual(f({}, ['2001:db8:1:2:3:4:5:6']), { kind: 'client-subnet', name: '2001:db8:1:2::/64' });
  assert.deepEqual(f({}, ['fd00::7']), { kind: 'client-subnet', name: 'fd00::/64' });
  assert.deepEqual(f({}), { kind: 'host', name: 'host' });
});

test('resolveAfter must be a whole number of windows', () => {
  assert.throws(() => new FindingLifecycle('n', 0), RangeError);
});
