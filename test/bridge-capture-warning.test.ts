import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeCaptureWarnings } from '../src/live/bridge-capture-warning';
import { iface, makeContext } from './context-fixtures';

test('a captured bridge with two ports or more is said to hide the traffic between its containers; one port, or no bridge, says nothing', () => {
  const context = makeContext({
    interfaces: [
      iface('eth0', 'veth', ['192.0.2.1/24']),
      { ...iface('docker0', 'bridge', ['172.17.0.1/16']), ports: ['veth1', 'veth2'] },
      { ...iface('br-app', 'bridge', ['172.18.0.1/16']), ports: ['veth3'] },
    ],
  });
  assert.deepEqual(bridgeCaptureWarnings(['eth0', 'docker0', 'br-app', 'any'], context), [
    'docker0 is a bridge (2 ports) captured without promiscuous mode: it shows what the host routes into and out of docker0, not the traffic between the containers on it; for that, capture their ports too (-i any, or -i VETH)',
  ]);
  assert.deepEqual(bridgeCaptureWarnings(['eth0'], context), []);
});
