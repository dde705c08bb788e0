import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArpLog } from '../src/evidence/arp-log';

const ip = (t: string) => t.split('.').reduce((a, b) => a * 256 + Number(b), 0);

test('ARP: a request seen on a bridge and on its port counts once; askers and replies are kept', () => {
  const log = new ArpLog();
  // ingress_sbox (172.18.0.2) asks for 172.18.50.20 three times, each seen on docker_gwbridge (0) and its eth1 (1).
  for (const t of [0, 1, 2]) {
    log.note(1, ip('172.18.0.2'), ip('172.18.50.20'), t, 0);
    log.note(1, ip('172.18.0.2'), ip('172.18.50.20'), t + 0.00003, 1);
  }
  // The host asks for a container, which answers.
  log.note(1, ip('172.18.0.1'), ip('172.18.0.3'), 5, 0);
  log.note(2, ip('172.18.0.3'), ip('172.18.0.1'), 5.0001, 0);
  const s = log.sightings(['docker_gwbridge', 'eth1@ingress_sbox']);
  assert.deepEqual(s.get('172.18.50.20'), { target: '172.18.50.20', requests: 3, replies: 0, interfaces: ['docker_gwbridge', 'eth1@ingress_sbox'], askers: ['172.18.0.2'] });
  assert.equal(s.get('172.18.0.3')!.replies, 1);
  // A request repeated on the same interface is a new request.
  log.note(1, ip('172.18.0.1'), ip('172.18.0.3'), 5.01, 0);
  assert.equal(log.sightings(['docker_gwbridge']).get('172.18.0.3')!.requests, 2);
});
