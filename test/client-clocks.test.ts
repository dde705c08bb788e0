import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { clientClocks } from '../src/diagnose/client-clocks';
import { clockCount, type TimestampSample } from '../src/diagnose/timestamp-clocks';
import { REPO } from './cli-harness';

/** SYNs of hosts whose 1000 Hz clocks start at the given offsets, one SYN per host every `every` s. */
function syns(offsets: number[], perHost: number, every = 2): TimestampSample[] {
  const out: TimestampSample[] = [];
  for (const [h, offset] of offsets.entries()) {
    for (let k = 0; k < perHost; k++) {
      const at = 1000 + k * every + h * 0.3;
      out.push({ at, tsVal: (offset + Math.round(at * 1000)) >>> 0 });
    }
  }
  return out;
}

test('client clocks: three hosts behind one address are three clocks; one host and per-connection random offsets are not listed', () => {
  const client = (address: string, samples: TimestampSample[]) => ({ address, count: samples.length, clocks: clockCount(samples), read: () => ({ samples, servers: 1 }) });
  const clients = [
    client('203.0.113.7', syns([10_000_000, 900_000_000, 2_000_000_000], 3)),
    client('198.51.100.5', syns([55_000_000], 6)),
    // Linux 4.10+: every connection its own random offset (here 5 connections, 5 "clocks").
    client('198.51.100.6', syns([1e6, 3e8, 9e8, 1.5e9, 3.9e9], 1)),
  ];
  assert.deepEqual(clientClocks(clients), [{ address: '203.0.113.7', syns: 9, clocks: 3, rateHz: 1000, servers: 1 }]);
});

test('client clocks on the synthetic tw_recycle capture: the NAT address shows its 3 hosts, direct clients are not listed', () => {
  const a = analyzeFiles([path.join(REPO, 'captures', 'tw-recycle-nat', 'capture.pcap')]);
  assert.deepEqual(a.clientClocks?.map((c) => [c.address, c.clocks]), [['203.0.113.7', 3]]);
});

test('client clocks: an attempt seen at two hops (DNAT) counts once, so a client with random offsets is not listed', () => {
  const a = analyzeFiles([path.join(REPO, 'captures', 'docker-gwbridge-ingress', 'capture.pcapng')]);
  assert.deepEqual(a.clientClocks, []);
});
