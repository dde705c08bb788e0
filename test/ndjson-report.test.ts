/**
 * `--format ndjson`: one synscope.events/1 event per line, the same content as the JSON
 * report; with --all-flows each flow is written as it leaves the tracker and none is held.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFloodCapture } from '../bench/flood-capture';
import { analyzeFiles } from '../src/analysis';
import { EVENTS_SCHEMA } from '../src/report/ndjson';
import { REPO, runBin } from './cli-harness';

const CAPTURE = path.join(REPO, 'captures', 'docker-real-swarm-ingress');

function events(stdout: string): { schema: string; type: string; [k: string]: unknown }[] {
  return stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
}

test('ndjson carries the JSON report as events: inputs, flows, stitched attempts, findings, then the summary', () => {
  const args = ['analyze', path.join(CAPTURE, 'capture.pcapng'), '--context', path.join(CAPTURE, 'context.json')];
  const json = JSON.parse(runBin([...args, '--json']).stdout);
  const r = runBin([...args, '--format', 'ndjson']);
  assert.equal(r.code, 0, r.stderr);
  const list = events(r.stdout);
  assert.ok(list.every((e) => e.schema === EVENTS_SCHEMA && typeof e.type === 'string'));
  const types = list.map((e) => e.type);
  assert.deepEqual([...new Set(types)], ['input', 'flow', 'attempt', 'finding', 'summary']);
  assert.equal(types.filter((t) => t === 'flow').length, json.flows.length);
  assert.deepEqual(list.filter((e) => e.type === 'finding').map(({ schema, type, ...f }) => f), json.findings);
  const summary = list.at(-1)!;
  assert.equal(summary.type, 'summary');
  assert.deepEqual(summary['handshakes'], json.summary.handshakes);
  assert.deepEqual(summary['warnings'], json.warnings);
});

test('--format ndjson --all-flows writes every flow as it leaves the tracker; the library holds none of them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-ndjson-'));
  try {
    const file = path.join(dir, 'flood.pcap');
    writeFloodCapture({ syns: 5000, out: file, spoofed: false, answered: true, synsPerSecond: 5000 / 2 });
    const r = runBin(['analyze', file, '--format', 'ndjson', '--all-flows']);
    assert.equal(r.code, 0, r.stderr);
    const list = events(r.stdout);
    assert.equal(list.filter((e) => e.type === 'flow').length, 5000);
    assert.equal((list.at(-1)!['handshakes'] as { completed: number }).completed, 2500);
    let handed = 0;
    const analysis = analyzeFiles([file], { allFlows: true, onFlow: () => handed++ });
    assert.equal(handed, 5000);
    assert.equal(analysis.flows.length, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--json and another --format together are a usage error', () => {
  const r = runBin(['analyze', path.join(CAPTURE, 'capture.pcapng'), '--json', '--format', 'ndjson']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--json and --format ndjson ask for two formats/);
});
