import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles, type Analysis } from '../src/analysis';
import type { KernelEvidence } from '../src/evidence/kernel-evidence';
import { KERNEL_EVENTS_SHOWN, toReportJson, writeReportJson } from '../src/report/json';
import { renderText } from '../src/report/text';
import { REPO } from './cli-harness';

const REFUSALS = path.join(REPO, 'captures', 'refusals', 'capture.pcapng');
const T0 = 1_700_000_000;

function evidence(drops: number): KernelEvidence {
  return {
    counters: [
      { namespace: 'host', seconds: 12.04, deltas: { 'TcpExt.ListenOverflows': 15, 'TcpExt.ListenDrops': 15, 'TcpExt.TCPHPHits': 120 } },
      { namespace: 'web-1', seconds: 12.04, deltas: { 'Tcp.InSegs': 40 } },
    ],
    events: [
      ...Array.from({ length: drops }, (_, i) => ({ kind: 'drop' as const, at: T0 + i / 1000, reason: i % 3 === 0 ? 'NO_SOCKET' : 'NETFILTER_DROP', protocol: 0x0800, location: 'nft_do_chain+0x3e8/0x610' })),
      { kind: 'synack-retransmit', at: T0 + 5, serverAddress: '10.0.0.5', serverPort: 80, clientAddress: '198.51.100.7', clientPort: 40001 },
    ],
    unavailable: [{ source: 'tcp:tcp_retransmit_synack', reason: 'example note' }],
  };
}

function withKernel(kernel: KernelEvidence | null): Analysis {
  return { ...analyzeFiles([REFUSALS]), kernel };
}

test('report JSON: a top-level "kernel" with counters, events by kind and reason and the first events, only when present', () => {
  const plain = toReportJson(withKernel(null));
  assert.equal('kernel' in plain, false);
  assert.equal('kernel' in toReportJson({ ...withKernel(null), kernel: undefined as unknown as null }), false);

  const json = toReportJson(withKernel(evidence(150)));
  assert.deepEqual(Object.keys(json), ['schema', 'inputs', 'summary', 'flows', 'flowsLeftOut', 'groups', 'findings', 'kernel', 'warnings']);
  const k = json.kernel!;
  assert.deepEqual(k.counters, evidence(150).counters);
  assert.equal(k.events.total, 151);
  assert.deepEqual(k.events.byKind, { drop: 150, 'synack-retransmit': 1 });
  assert.deepEqual(k.events.dropsByReason, { NETFILTER_DROP: 100, NO_SOCKET: 50 });
  assert.equal(k.events.first.length, KERNEL_EVENTS_SHOWN);
  assert.deepEqual(k.events.first[0], { kind: 'drop', at: '2023-11-14T22:13:20.000000Z', reason: 'NO_SOCKET', protocol: 0x0800, location: 'nft_do_chain+0x3e8/0x610', scope: 'host-wide' });
  // No captured connection has the retransmission's tuple: like every kfree_skb drop, it is host-wide.
  assert.deepEqual(k.events.byScope, { captured: 0, 'host-wide': 151 });
  assert.deepEqual(k.unavailable, [{ source: 'tcp:tcp_retransmit_synack', reason: 'example note' }]);
});

test('report JSON: the streamed document equals JSON.stringify of the report, with and without kernel evidence', () => {
  for (const kernel of [null, evidence(3), evidence(0)]) {
    const a = withKernel(kernel);
    let streamed = '';
    writeReportJson(a, (c) => (streamed += c));
    assert.equal(streamed, JSON.stringify(toReportJson(a), null, 2) + '\n');
  }
});

test('report text: a "Kernel evidence" section with diagnostic counters, drop reasons and what was not collected', () => {
  assert.equal(renderText(withKernel(null)).includes('Kernel evidence'), false);
  const text = renderText(withKernel(evidence(6)));
  const section = text.slice(text.indexOf('Kernel evidence'));
  assert.match(section, /counters in host over 12\.0 s: TcpExt\.ListenOverflows \+15, TcpExt\.ListenDrops \+15\n/);
  assert.match(section, /counters in web-1 over 12\.0 s: no diagnostic counter changed/);
  assert.doesNotMatch(section, /TCPHPHits/);
  assert.match(section, /NETFILTER_DROP 4: a netfilter rule/);
  assert.match(section, /NO_SOCKET 2: nothing listens/);
  assert.match(section, /SYN-ACK retransmissions elsewhere on the host \(connections not in this capture\): 1/);
  assert.match(section, /not collected: tcp:tcp_retransmit_synack: example note/);
});

test('kernel events are scoped: a SYN-ACK retransmission of a captured connection counts there, the rest host-wide', () => {
  const a = withKernel(null);
  const f = a.flows.find((x) => x.outcome === 'unanswered')!;
  const mine = { kind: 'synack-retransmit' as const, at: T0, serverAddress: f.serverIp, serverPort: f.serverPort, clientAddress: f.clientIp, clientPort: f.clientPort };
  const other = { ...mine, clientPort: f.clientPort + 1 };
  const kernel: KernelEvidence = { counters: [], events: [mine, other, { kind: 'drop', at: T0, reason: 'NO_SOCKET', protocol: 0x0800, location: null }], unavailable: [] };
  const json = toReportJson({ ...a, kernel });
  assert.deepEqual(json.kernel!.events.byScope, { captured: 1, 'host-wide': 2 });
  assert.deepEqual(json.kernel!.events.first.map((e) => e.scope), ['captured', 'host-wide', 'host-wide']);
  const text = renderText({ ...a, kernel });
  assert.match(text, /SYN-ACK retransmissions of the captured connections \(tcp:tcp_retransmit_synack\): 1\n/);
  assert.match(text, /SYN-ACK retransmissions elsewhere on the host \(connections not in this capture\): 1\n/);
  assert.match(text, /drops by reason, host-wide/);
});
