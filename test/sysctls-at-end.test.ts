import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { emptyHostContext } from '../src/context/empty-context';
import type { HostContext } from '../src/context/host-context';
import { resolveNamespaceSpec } from '../src/netns/namespace-spec';
import { mergeSysctls, withSysctlsAtEnd } from '../src/live/sysctls-at-end';

/**
 * The context of a live capture is collected as it starts; a sysctl set during the window
 * (the docker-real-ip-forward-off lab turns forwarding off mid-capture) must reach the verdict.
 * The namespace test needs root and fails without it.
 */
const NS = `sssysend${process.pid}`;

function snapshot(sysctls: Record<string, string>): HostContext {
  return { ...emptyHostContext({ capturedAt: '2026-12-06T00:00:00.000Z', hostname: 'node', namespace: NS, kernelRelease: '6.1.0' }), sysctls };
}

before(() => {
  assert.equal(process.getuid?.(), 0, 'this test builds a network namespace (ip netns add) and needs root');
  execFileSync('ip', ['netns', 'add', NS]);
});

after(() => {
  execFileSync('ip', ['netns', 'delete', NS]);
});

test('a sysctl that changed during the window takes its value at the end, and is named', () => {
  const { context, warnings } = mergeSysctls(snapshot({ 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.eth0.rp_filter': '1', 'net.ipv4.conf.veth1.forwarding': '1' }), {
    'net.ipv4.ip_forward': '0',
    'net.ipv4.conf.eth0.rp_filter': '1',
    'net.ipv4.conf.veth2.forwarding': '1',
  });
  assert.deepEqual(context.sysctls, { 'net.ipv4.ip_forward': '0', 'net.ipv4.conf.eth0.rp_filter': '1', 'net.ipv4.conf.veth1.forwarding': '1', 'net.ipv4.conf.veth2.forwarding': '1' });
  assert.deepEqual(warnings, ['sysctls changed during the capture (net.ipv4.ip_forward 1 -> 0): the diagnosis uses their values at its end']);
});

test('one warning for many changes, naming the first few', () => {
  const names = ['all', 'default', 'docker0', 'eth0', 'lo', 'veth1'].map((i) => `net.ipv4.conf.${i}.forwarding`);
  const { warnings } = mergeSysctls(snapshot(Object.fromEntries(names.map((n) => [n, '1']))), Object.fromEntries(names.map((n) => [n, '0'])));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /\(net\.ipv4\.conf\.all\.forwarding 1 -> 0, .*net\.ipv4\.conf\.eth0\.forwarding 1 -> 0 and 2 more\)/);
});

test('the end of the window is read in the captured namespace, not in synscope\'s own', () => {
  const ours = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const other = ours === '1' ? '0' : '1';
  execFileSync('ip', ['netns', 'exec', NS, 'sysctl', '-qw', `net.ipv4.ip_forward=${other}`]);
  const { context, warnings } = withSysctlsAtEnd(snapshot({ 'net.ipv4.ip_forward': ours }), resolveNamespaceSpec(NS));
  assert.equal(context.sysctls['net.ipv4.ip_forward'], other);
  assert.equal(context.sysctls['net.ipv4.conf.lo.rp_filter'] !== undefined, true, 'the namespace\'s own interfaces are read');
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.equal(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), ours, 'synscope\'s namespace is not touched');
});

test('a snapshot that could not be collected stays a stub', () => {
  const { context, warnings } = withSysctlsAtEnd(snapshot({}), resolveNamespaceSpec(NS));
  assert.deepEqual([context.sysctls, warnings], [{}, []]);
});
