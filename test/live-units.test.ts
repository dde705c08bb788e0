import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../src/live/duration';
import { interfaceName } from '../src/live/live-capture';

test('live interface names: the first target namespace keeps plain names, every other one is qualified', () => {
  const sbox = { path: '/run/netns/sbox', label: 'sbox' };
  const other = { path: '/proc/42/ns/net', label: 'pid:42' };
  assert.equal(interfaceName({ device: 'eth0', namespace: null }, null), 'eth0');
  assert.equal(interfaceName({ device: 'eth1', namespace: sbox }, sbox), 'eth1');
  assert.equal(interfaceName({ device: 'eth0', namespace: other }, sbox), 'eth0@pid:42');
  // `--netns sbox:eth0 -i eth0`: the host's eth0 must not merge with sbox's.
  assert.equal(interfaceName({ device: 'eth0', namespace: null }, sbox), 'eth0@host');
});

test('live --duration: units, and no value past what a timer can wait', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2'), 2000);
  assert.equal(parseDuration('24h'), 86_400_000);
  for (const bad of ['0', '-1s', 'soon', '1000h', '30d']) assert.throws(() => parseDuration(bad), /--duration/);
});
