import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emptyHostContext } from '../src/context/empty-context';
import type { HostContext } from '../src/context/host-context';
import { sysctlChangeWarning, withSysctlsAtEnd } from '../src/context/sysctl-changes';
import { resolveNamespaceSpec } from '../src/netns/namespace-spec';
import { KernelWindow } from '../src/live/kernel-window';
import { REPO, runBin } from './cli-harness';

/**
 * The context of a live capture is collected as it starts; a sysctl set during the window
 * (the docker-real-ip-forward-off lab turns forwarding off mid-capture) must reach the verdict,
 * and the change must stay in the written context. The namespace test needs root and fails without it.
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

test('a sysctl that changed during the window takes its value at the end, and the change is kept', () => {
  const context = withSysctlsAtEnd(snapshot({ 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.eth0.rp_filter': '1', 'net.ipv4.conf.veth1.forwarding': '1' }), {
    'net.ipv4.ip_forward': '0',
    'net.ipv4.conf.eth0.rp_filter': '1',
    'net.ipv4.conf.veth2.forwarding': '1',
  });
  assert.deepEqual(context.sysctls, { 'net.ipv4.ip_forward': '0', 'net.ipv4.conf.eth0.rp_filter': '1', 'net.ipv4.conf.veth1.forwarding': '1', 'net.ipv4.conf.veth2.forwarding': '1' });
  assert.deepEqual(context.sysctlChanges, [{ name: 'net.ipv4.ip_forward', atStart: '1', atEnd: '0' }], 'a new interface\'s settings are no change');
  assert.equal(sysctlChangeWarning(context), 'sysctls changed during the capture (net.ipv4.ip_forward 1 -> 0): the diagnosis uses their values at its end');
  assert.equal(sysctlChangeWarning(snapshot({ 'net.ipv4.ip_forward': '1' })), null);
});

test('one warning for many changes, naming the first few; a stub snapshot stays a stub', () => {
  const names = ['all', 'default', 'docker0', 'eth0', 'lo', 'veth1'].map((i) => `net.ipv4.conf.${i}.forwarding`);
  const context = withSysctlsAtEnd(snapshot(Object.fromEntries(names.map((n) => [n, '1']))), Object.fromEntries(names.map((n) => [n, '0'])));
  assert.match(sysctlChangeWarning(context)!, /\(net\.ipv4\.conf\.all\.forwarding 1 -> 0, .*net\.ipv4\.conf\.eth0\.forwarding 1 -> 0 and 2 more\)/);
  assert.deepEqual(withSysctlsAtEnd(snapshot({}), { 'net.ipv4.ip_forward': '0' }).sysctls, {});
});

test('a window reads the sysctls at its end in the captured namespace, not in synscope\'s own', () => {
  const ours = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const other = ours === '1' ? '0' : '1';
  const window = new KernelWindow([resolveNamespaceSpec(NS)], false);
  window.begin();
  execFileSync('ip', ['netns', 'exec', NS, 'sysctl', '-qw', `net.ipv4.ip_forward=${other}`]);
  window.end();
  assert.equal(window.sysctlsAtEnd?.['net.ipv4.ip_forward'], other);
  assert.ok(window.sysctlsAtEnd?.['net.ipv4.conf.lo.rp_filter'] !== undefined, 'the namespace\'s own interfaces are read');
  assert.equal(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(), ours, 'synscope\'s namespace is not touched');
});

test('analyze on a written context with a change says so', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-sysctl-changes-'));
  try {
    const scenario = path.join(REPO, 'captures', 'docker-real-ip-forward-off');
    const context = JSON.parse(fs.readFileSync(path.join(scenario, 'context.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, 'context.json'), JSON.stringify({ ...context, sysctlChanges: [{ name: 'net.ipv4.ip_forward', atStart: '1', atEnd: '0' }] }));
    const withChange = runBin(['analyze', path.join(scenario, 'capture.pcapng'), '--context', path.join(dir, 'context.json'), '--json']);
    const without = runBin(['analyze', path.join(scenario, 'capture.pcapng'), '--context', path.join(scenario, 'context.json'), '--json']);
    const warnings = (r: { stdout: string }) => (JSON.parse(r.stdout) as { warnings: string[] }).warnings;
    assert.ok(warnings(withChange).includes('sysctls changed during the capture (net.ipv4.ip_forward 1 -> 0): the diagnosis uses their values at its end'), withChange.stdout.slice(-800));
    assert.ok(!warnings(without).some((w) => w.startsWith('sysctls changed')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
