import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import type { HostContext } from '../src/context/host-context';
import { interfaceByMacs } from '../src/context/interface-by-macs';
import { loadHostContext } from '../src/context/load';
import { REPO } from './cli-harness';
import { iface, makeContext } from './context-fixtures';

/**
 * A stored real-Docker scenario as two or three tcpdumps would have recorded it: one classic
 * pcap per interface ("tcpdump -i eth0 -w ..."), named by the operator, none naming its
 * interface. With the host context, each file's interface is named from its frames' MACs,
 * so the rules that follow the snapshot from interface to interface give the whole
 * capture's verdict.
 */
function analyzeTcpdumps(scenario: string, files: number, context: HostContext | null = loadHostContext(path.join(REPO, 'captures', scenario, 'context.json'))) {
  const paths = Array.from({ length: files }, (_, i) => path.join(REPO, 'test', 'fixtures', 'capture', `${scenario}-tcpdump${i + 1}.pcap`));
  return analyzeFiles(paths, context === null ? {} : { context, bridges: bridgesFromContext(context) });
}

const errors = (a: ReturnType<typeof analyzeTcpdumps>) => a.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.confidence, f.title]);

test('masquerade-missing as two tcpdumps (docker0, eth0): each file is named by the MAC its frames carry, and the untranslated SYN leaving eth0 is the high verdict', () => {
  const a = analyzeTcpdumps('docker-real-masquerade-missing', 2);
  assert.deepEqual([...a.interfaceNames].sort(), ['docker0', 'eth0']);
  assert.deepEqual(errors(a), [['nat-path-break', 'high', '1 attempt from docker0 to 198.51.100.80:80 left by eth0 with the container\'s own address: nothing masquerades 172.17.0.0/16']]);
  assert.ok(a.warnings.some((w) => /docker-real-masquerade-missing-tcpdump2\.pcap names no interface: it is taken as eth0, the snapshot's interface whose MAC its frames carry$/.test(w)), a.warnings.join('\n'));
  assert.deepEqual(a.inputs.map((i) => i.interfaces), [['docker0'], ['eth0']]);
});

test('outbound-overlap as three tcpdumps: the bridge that only heard the host\'s own ARP requests is named by them too', () => {
  const a = analyzeTcpdumps('docker-real-outbound-overlap', 3);
  assert.deepEqual([...a.interfaceNames].sort(), ['br-ad42880f939a', 'docker0', 'eth0']);
  assert.deepEqual(errors(a).map(([code, confidence]) => [code, confidence]), [['bridge-subnet-overlap', 'high']]);
});

test('without a host context, or with one of another host, the files keep their own names', () => {
  assert.deepEqual([...analyzeTcpdumps('docker-real-masquerade-missing', 2, null).interfaceNames].sort(), ['docker-real-masquerade-missing-tcpdump1', 'docker-real-masquerade-missing-tcpdump2']);
  const other = loadHostContext(path.join(REPO, 'captures', 'docker-real-outbound-overlap', 'context.json'));
  const a = analyzeTcpdumps('docker-real-masquerade-missing', 2, other);
  assert.equal(a.contextMatch, 'mismatch');
  assert.deepEqual([...a.interfaceNames].sort(), ['docker-real-masquerade-missing-tcpdump1', 'docker-real-masquerade-missing-tcpdump2']);
});

test('a link is named only by one interface of the snapshot: not by a bridge port, not when two interfaces\' MACs show', () => {
  const withMac = (i: ReturnType<typeof iface>, mac: string) => ({ ...i, mac });
  const ctx = makeContext({
    interfaces: [
      withMac(iface('eth0', 'physical', ['192.0.2.1/24']), '02:00:00:00:00:e0'),
      withMac(iface('docker0', 'bridge', ['172.17.0.1/16']), '02:00:00:00:00:d0'),
      withMac(iface('veth1', 'veth', [], 'docker0'), '02:00:00:00:00:7e'),
    ],
  });
  assert.equal(interfaceByMacs(ctx, ['02:00:00:00:00:E0', '02:00:00:00:00:c1'])?.name, 'eth0');
  assert.equal(interfaceByMacs(ctx, ['02:00:00:00:00:7e']), null);
  assert.equal(interfaceByMacs(ctx, ['02:00:00:00:00:e0', '02:00:00:00:00:d0']), null);
  assert.equal(interfaceByMacs(ctx, ['02:00:00:00:00:c1']), null);
});
