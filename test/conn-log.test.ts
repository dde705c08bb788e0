/**
 * `--format conn`: a Zeek conn.log of the analysis's flows. Read back by its `#fields` line
 * (as zeek-cut reads it) and compared, row by row, with Zeek's own conn.log for the same
 * trace (the baselines of test/zeek-agreement.test.ts, like-for-like ones only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeFloodCapture } from '../bench/flood-capture';
import { analyzeFiles } from '../src/analysis';
import { writeConnLog } from '../src/report/conn-log';
import { REPO, runBin, runCli } from './cli-harness';

const ZEEK = path.join(REPO, 'test', 'fixtures', 'zeek');

interface ConnLog {
  /** Header lines by their name (`#path conn` gives path → "conn"). */
  headers: Map<string, string>;
  fields: string[];
  types: string[];
  rows: Record<string, string>[];
  /** Whether `#close` is the last line. */
  closed: boolean;
}

/** Zeek's ASCII log as zeek-cut reads it: `#separator` first, then `#fields` names the tab-separated columns. */
function parseConnLog(text: string): ConnLog {
  const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('###'));
  assert.equal(lines[0], '#separator \\x09', 'a Zeek log starts with its separator line');
  const headers = new Map<string, string>();
  const rows: Record<string, string>[] = [];
  let fields: string[] = [];
  let types: string[] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('#')) {
      const [name, ...rest] = line.slice(1).split('\t');
      headers.set(name!, rest.join('\t'));
      if (name === 'fields') fields = rest;
      if (name === 'types') types = rest;
      continue;
    }
    const cells = line.split('\t');
    assert.equal(cells.length, fields.length, `a row has one cell per field: ${line}`);
    rows.push(Object.fromEntries(fields.map((f, i) => [f, cells[i]!])));
  }
  return { headers, fields, types, rows, closed: lines.at(-1)!.startsWith('#close\t') };
}

/** Like-for-like Zeek conn.log baselines (test/fixtures/zeek/AGREEMENT.md): trace and baseline. */
const BASELINES: readonly [trace: string, baseline: string][] = [
  ['pop3__pop3.pcap', 'baseline__scripts.base.protocols.pop3.basic__conn.log'],
  ['ssh__ssh.pcap', 'baseline__scripts.base.protocols.ssh.basic__conn.log'],
  ['ssh__ssh.server-side-half-duplex.pcap', 'baseline__scripts.base.protocols.ssh.half-duplex-server__conn.log'],
  ['ftp__ipv6.pcap', 'baseline__scripts.base.protocols.ftp.ftp-ipv6__conn.log'],
  ['mixed-vlan-mpls.pcap', 'baseline__core.vlan-mpls__conn.log'],
  ['tcp__missing-syn.pcap', 'baseline__core.tcp.missing-syn__conn.log'],
  ['tcp__http-on-irc-port-missing-syn.pcapng', 'baseline__core.tcp.flip-without-syn__conn.log'],
  ['pppoe-over-qinq.pcap', 'baseline__core.pppoe-over-qinq__conn.log'],
  ['ldap__simpleauth.pcap', 'baseline__scripts.base.protocols.ldap.basic__conn.log'],
  ['tls__pop3-starttls.pcap', 'baseline__scripts.base.protocols.pop3.starttls__conn.log'],
];

const tuple = (r: Record<string, string>) => `${r['id.orig_h']}:${r['id.orig_p']} -> ${r['id.resp_h']}:${r['id.resp_p']}`;

test('conn.log header: Zeek\'s header lines, #fields and #types of one length, #close last', () => {
  const log = parseConnLog(runBin(['analyze', path.join(ZEEK, 'pop3__pop3.pcap'), '--all-flows', '--format', 'conn']).stdout);
  assert.equal(log.headers.get('set_separator'), ',');
  assert.equal(log.headers.get('empty_field'), '(empty)');
  assert.equal(log.headers.get('unset_field'), '-');
  assert.equal(log.headers.get('path'), 'conn');
  assert.match(log.headers.get('open')!, /^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/);
  assert.ok(log.closed, 'the last line is #close');
  assert.equal(log.types.length, log.fields.length);
  const zeek = parseConnLog(readFileSync(path.join(ZEEK, BASELINES[0]![1]), 'utf8'));
  assert.deepEqual(log.fields, zeek.fields, 'the same columns as Zeek 9.1 writes');
  assert.deepEqual(log.types, zeek.types);
  assert.equal(log.rows.length, 11);
});

test('conn.log rows agree with Zeek\'s conn.log per 5-tuple (--zeek-timers --all-flows): conn_state, history, packets, duration where Zeek\'s clock ran to the last packet', async () => {
  let compared = 0;
  for (const [trace, baseline] of BASELINES) {
    const r = await runCli('analyze', path.join(ZEEK, trace), '--zeek-timers', '--all-flows', '--format', 'conn');
    assert.equal(r.code, 0, r.stderr);
    const ours = parseConnLog(r.stdout).rows;
    const zeek = parseConnLog(readFileSync(path.join(ZEEK, baseline), 'utf8')).rows.filter((z) => z['proto'] === 'tcp');
    const used = new Set<Record<string, string>>();
    for (const z of zeek) {
      const row = ours.find((o) => !used.has(o) && tuple(o) === tuple(z));
      assert.ok(row !== undefined, `${trace}: no conn.log row for ${tuple(z)}`);
      used.add(row);
      const pick = (x: Record<string, string>) => ({ tuple: tuple(x), proto: x['proto'], conn_state: x['conn_state'], history: x['history'], orig_pkts: x['orig_pkts'], resp_pkts: x['resp_pkts'], ip_proto: x['ip_proto'] });
      assert.deepEqual(pick(row), pick(z), `${trace}: ${tuple(z)}`);
      // Zeek stops a connection's clock once both sides closed (a FIN or RST each); synscope counts to the last packet.
      const bothClosed = /[FR]/.test(z['history']!) && /[fr]/.test(z['history']!);
      if (bothClosed) assert.ok(Number(row['duration']) >= Number(z['duration']), `${trace}: ${tuple(z)} duration ${row['duration']} < Zeek's ${z['duration']}`);
      else assert.equal(row['duration'], z['duration'], `${trace}: ${tuple(z)} duration`);
      compared++;
    }
    assert.equal(ours.length, zeek.length, `${trace}: one row per TCP connection of Zeek's log`);
  }
  assert.ok(compared >= 60, `compared ${compared} rows`);
});

test('conn.log writes `-` for what synscope does not know, and only the failed attempts without --all-flows', () => {
  const capture = path.join(REPO, 'captures', 'refusals', 'capture.pcapng');
  const failedOnly = analyzeFiles([capture]);
  let text = '';
  writeConnLog(failedOnly, (chunk) => (text += chunk), new Date(Date.UTC(2026, 11, 6, 14, 3, 59)));
  const log = parseConnLog(text);
  assert.equal(log.headers.get('open'), '2026-12-06-14-03-59');
  assert.equal(log.headers.get('close'), '2026-12-06-14-03-59');
  assert.deepEqual(log.rows.map((r) => r['uid']), failedOnly.flows.map((f) => f.id));
  assert.deepEqual(log.rows.map((r) => r['conn_state']).sort(), ['REJ', 'S0', 'S0']);
  for (const row of log.rows) {
    for (const unknown of ['service', 'orig_bytes', 'resp_bytes', 'local_orig', 'local_resp', 'missed_bytes', 'orig_ip_bytes', 'resp_ip_bytes', 'tunnel_parents']) {
      assert.equal(row[unknown], '-', `${unknown} is not known`);
    }
    assert.match(row['ts']!, /^\d+\.\d{6}$/);
  }
  const all = parseConnLog(runBin(['analyze', capture, '--all-flows', '--format', 'conn']).stdout);
  assert.equal(all.rows.length, analyzeFiles([capture], { allFlows: true }).flows.length);
  assert.ok(all.rows.some((r) => r['conn_state'] === 'SF'), 'the completed connection too');
});

test('conn.log of a sampled analysis: standard error says how many failed flows it lists of how many, and that --all-flows lists them all', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'synscope-conn-'));
  try {
    const capture = path.join(dir, 'flood.pcap');
    writeFloodCapture({ syns: 2000, out: capture, spoofed: false, answered: false, synsPerSecond: 2000 / 2 });
    const sampled = runBin(['analyze', capture, '--format', 'conn']);
    assert.equal(sampled.code, 0, sampled.stderr);
    const rows = parseConnLog(sampled.stdout).rows.length;
    assert.ok(rows < 2000, `${rows} rows: the flood should have been sampled`);
    assert.match(sampled.stderr, new RegExp(`the conn log lists ${rows} of 2000 failed flows .*--all-flows lists every flow`));
    const all = runBin(['analyze', capture, '--format', 'conn', '--all-flows']);
    assert.equal(parseConnLog(all.stdout).rows.length, 2000);
    assert.doesNotMatch(all.stderr, /the conn log lists/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
