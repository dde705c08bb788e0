import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeFiles } from '../src/analysis';
import { FileSink } from '../src/capture/byte-sink';
import { PcapWriter } from '../src/capture/pcap-writer';
import { ansi, paintFor, plain, visibleLength } from '../src/report/colour';
import { keyInWords, valueInWords } from '../src/report/evidence-words';
import { findingCauses, shapeOf } from '../src/report/finding-causes';
import { renderText } from '../src/report/text';
import { textTable } from '../src/report/text-table';
import { buildTcpFrame } from '../src/synth/frames';
import { runBin } from './cli-harness';

/**
 * The 48-failure capture of issue #13: 32 attempts refused by RST on 16 ports and 16 that got no
 * answer on 8 ports, from two clients each. That is 24 findings from two causes; the report must
 * give a screen to each cause, not 24 near-identical blocks.
 */
const SERVER = '192.0.2.1';
const T0 = 1_767_225_600;
const SYN = 0x02;
const RST_ACK = 0x14;
const SYN_ACK = 0x12;
const ACK = 0x10;
/** A small terminal: 80 columns; a screen per cause is at most this many rows. */
const WIDTH = 80;
const SCREEN_ROWS = 40;

function writeFortyEightFailures(file: string): void {
  const sink = new FileSink(file);
  const w = new PcapWriter(sink, { linkType: 1 });
  let at = 0;
  let port = 40000;
  const put = (spec: Parameters<typeof buildTcpFrame>[0], when: number) => w.writePacket(buildTcpFrame(spec), T0 + Math.floor(when), Math.round((when % 1) * 1e6) * 1000);
  for (let svc = 9001; svc <= 9016; svc++) {
    for (const client of ['198.51.100.10', '198.51.100.11']) {
      const syn = { src: client, dst: SERVER, srcPort: port++, dstPort: svc, seq: 1000, ack: 0, flags: SYN };
      put(syn, (at += 0.01));
      put({ src: SERVER, dst: client, srcPort: svc, dstPort: syn.srcPort, seq: 0, ack: 1001, flags: RST_ACK }, (at += 0.001));
    }
  }
  for (let svc = 7001; svc <= 7008; svc++) {
    for (const client of ['198.51.100.20', '198.51.100.21']) {
      const syn = { src: client, dst: SERVER, srcPort: port++, dstPort: svc, seq: 5000, ack: 0, flags: SYN };
      const first = (at += 0.01);
      for (const retry of [0, 1, 3]) put(syn, first + retry);
    }
  }
  const c = { src: '198.51.100.30', dst: SERVER, srcPort: port++, dstPort: 443, seq: 7000, ack: 0, flags: SYN };
  put(c, at + 5);
  put({ src: SERVER, dst: c.src, srcPort: 443, dstPort: c.srcPort, seq: 9000, ack: 7001, flags: SYN_ACK }, at + 5.001);
  put({ ...c, seq: 7001, ack: 9001, flags: ACK }, at + 5.002);
  w.close();
}

function withCapture(body: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-screen-'));
  try {
    const file = path.join(dir, 'forty-eight.pcap');
    writeFortyEightFailures(file);
    body(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The report's finding blocks: from each "ERROR"/"WARNING"/"INFO" line to the next blank line. */
function findingBlocks(report: string): string[][] {
  const blocks: string[][] = [];
  let block: string[] | null = null;
  for (const line of report.split('\n')) {
    if (/^(ERROR|WARNING|INFO) /.test(line)) blocks.push((block = [line]));
    else if (line === '') block = null;
    else block?.push(line);
  }
  return blocks;
}

/** Rows a line takes on a terminal `width` columns wide (long lines wrap there). */
function screenRows(lines: readonly string[], width: number): number {
  return lines.reduce((rows, l) => rows + Math.max(1, Math.ceil(visibleLength(l) / width)), 0);
}

test('the 48-failure report gives one block per cause, each within a screen, and every table fits 80 columns', () => {
  withCapture((file) => {
    const a = analyzeFiles([file]);
    assert.equal(a.summary.handshakes.rejected, 32);
    assert.equal(a.summary.handshakes.unanswered, 16);
    assert.equal(a.findings.length, 24, 'one finding per service, as the rules find');
    const report = renderText(a, { width: WIDTH, paint: plain });
    assert.match(report, /^Findings \(24, from 2 causes\)$/m);
    const blocks = findingBlocks(report);
    assert.equal(blocks.length, 2, report);
    const [filtered, rejected] = blocks as [string[], string[]];
    assert.match(filtered.join(' '), /^ERROR filtered x8 \(confidence \w+\): 16 attempts from 2 clients, one cause in +8 places /);
    assert.match(rejected.join(' '), /^WARNING rejected x16 \(confidence high\): 32 attempts from 2 clients, one cause in +16 places /);
    const listing = rejected.join(' ').replace(/\s+/g, ' ');
    assert.match(listing, /services: 192\.0\.2\.1:9001, 192\.0\.2\.1:9002, .* \(16 in all\)/);
    assert.match(listing, /clients: 198\.51\.100\.10, 198\.51\.100\.11 /);
    for (const b of blocks) assert.ok(screenRows(b, WIDTH) <= SCREEN_ROWS, `a cause takes ${screenRows(b, WIDTH)} rows:\n${b.join('\n')}`);
    // Remedies are left unwrapped (commands copy whole); everything else fits.
    const wide = report.split('\n').filter((l) => l.length > WIDTH && !l.startsWith('    - '));
    assert.deepEqual(wide, []);
    assert.ok(screenRows(report.split('\n'), WIDTH) <= 3 * SCREEN_ROWS, `the whole report takes ${screenRows(report.split('\n'), WIDTH)} rows`);
    assert.doesNotMatch(report, /[{}"]\w+":/, 'evidence is in words, not JSON');
  });
});

test('findings alike but for addresses, ports and counts share a cause; a different refusal does not', () => {
  assert.equal(shapeOf('192.0.2.1:8081 refused 3 connection attempts with RST'), shapeOf('2001:db8::1:443 refused 12 connection attempts with RST'));
  assert.notEqual(shapeOf('192.0.2.1:8081 refused 1 connection attempt with RST'), shapeOf('192.0.2.1:8083 refused 1 connection attempt with ICMP port unreachable'));
  withCapture((file) => {
    const causes = findingCauses(analyzeFiles([file]).findings);
    assert.deepEqual(
      causes.map((c) => [c.code, c.findings.length, c.flowCount, c.clientCount]),
      [
        ['filtered', 8, 16, 2],
        ['rejected', 16, 32, 2],
      ],
    );
  });
});

test('evidence reads in words: keys as phrases, objects as key-value pairs, long lists bounded', () => {
  assert.equal(keyInWords('arpRequestsOnBridge'), 'ARP requests on bridge');
  assert.equal(keyInWords('answeredOtherClients'), 'answered other clients');
  assert.equal(keyInWords('synAcks'), 'SYN-ACKs');
  assert.equal(valueInWords([{ target: '172.17.0.50', requests: 4, askers: ['172.17.0.2'] }]), '(target 172.17.0.50, requests 4, askers 172.17.0.2)');
  assert.equal(valueInWords({ all: '1', effective: 1, up: true }), 'all 1, effective 1, up yes');
  assert.equal(valueInWords(Array.from({ length: 10 }, (_, i) => `10.0.0.${i}`)), '10.0.0.0, 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, 10.0.0.7, ... (10 in all)');
});

test('a table too wide for the terminal leaves out its optional columns first, and says so', () => {
  const columns = [{ head: 'client' }, { head: 'server' }, { head: 'first seen (UTC)', optional: true }];
  const rows = [['198.51.100.10:40000', '192.0.2.1:9001', '2026-01-01 00:00:00.010000']];
  assert.equal(textTable(columns, rows, 100).split('\n')[1], '198.51.100.10:40000  192.0.2.1:9001  2026-01-01 00:00:00.010000');
  const narrow = textTable(columns, rows, 40).split('\n');
  assert.equal(narrow[1], '198.51.100.10:40000  192.0.2.1:9001');
  assert.match(narrow[2]!, /first seen \(UTC\)/);
  assert.ok(textTable([{ head: 'a' }, { head: 'b' }], [['x'.repeat(60), 'y'.repeat(60)]], 50).split('\n').every((l) => l.length <= 50));
});

test('severity is coloured on a terminal or with FORCE_COLOR, plain when piped or with NO_COLOR', () => {
  assert.equal(paintFor({ isTTY: true }, {}), ansi);
  assert.equal(paintFor({ isTTY: true }, { NO_COLOR: '1' }), plain);
  assert.equal(paintFor({ isTTY: false }, {}), plain);
  assert.equal(paintFor({ isTTY: false }, { FORCE_COLOR: '1' }), ansi);
  withCapture((file) => {
    const piped = runBin(['analyze', file]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stdout, /\x1b\[/);
    const forced = runBinWithEnv(['analyze', file], { FORCE_COLOR: '1', COLUMNS: '80' });
    assert.match(forced.stdout, /\x1b\[1;31mERROR filtered x8\x1b\[0m/);
    assert.match(forced.stdout, /\x1b\[1;33mWARNING rejected x16\x1b\[0m/);
    const noColour = runBinWithEnv(['analyze', file], { FORCE_COLOR: '1', NO_COLOR: '1' });
    assert.doesNotMatch(noColour.stdout, /\x1b\[/);
  });
});

function runBinWithEnv(args: string[], env: Record<string, string>): { code: number; stdout: string } {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return runBin(args);
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
