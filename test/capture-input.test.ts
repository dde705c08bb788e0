/**
 * Input as tcpdump and tshark users give it: "-" for standard input, -r FILE, gzip-compressed
 * files, FIFOs. Each must give the same analysis as the plain file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { BIN, REPO, runBin, STACK_LINE } from './cli-harness';

const CAPTURE = path.join(REPO, 'captures', 'refusals', 'capture.pcapng');

function analyzeJson(args: string[], input?: Buffer): { code: number; report: { summary: unknown; findings: { code: string }[]; inputs: { source: string }[] }; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'analyze', ...args, '--json'], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, report: r.status === 0 ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

function withTempDir(run: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-input-'));
    try {
      await run(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

const plain = analyzeJson([CAPTURE]);

test('the plain capture analyzes (the reference for the rest)', () => {
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(plain.report.findings.length > 0);
});

test('"-" reads the capture from standard input, pcapng or pcap, and names it stdin', () => {
  const r = analyzeJson(['-'], fs.readFileSync(CAPTURE));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.report.summary, plain.report.summary);
  assert.deepEqual(r.report.findings.map((f) => f.code), plain.report.findings.map((f) => f.code));
  assert.equal(r.report.inputs[0]!.source, 'stdin');
  const pcap = path.join(REPO, 'captures', 'refusals-nanosecond');
  const file = path.join(pcap, fs.readdirSync(pcap).find((f) => f.endsWith('.pcap'))!);
  const viaPipe = analyzeJson(['-'], fs.readFileSync(file));
  assert.deepEqual(viaPipe.report.summary, analyzeJson([file]).report.summary);
});

test('-r FILE is the same as naming the file', () => {
  const r = analyzeJson(['-r', CAPTURE]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.report.summary, plain.report.summary);
});

test('a gzip-compressed capture is read as the capture inside it, from a file or from standard input', withTempDir((dir) => {
  const gz = path.join(dir, 'capture.pcapng.gz');
  const compressed = zlib.gzipSync(fs.readFileSync(CAPTURE));
  fs.writeFileSync(gz, compressed);
  const fromFile = analyzeJson([gz]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.deepEqual(fromFile.report.summary, plain.report.summary);
  assert.deepEqual(analyzeJson(['-'], compressed).report.summary, plain.report.summary);
  // Concatenated members (gzip a b > c) are one stream, as gunzip reads them.
  const half = fs.readFileSync(CAPTURE);
  const members = Buffer.concat([zlib.gzipSync(half.subarray(0, 1000)), zlib.gzipSync(half.subarray(1000))]);
  assert.deepEqual(analyzeJson(['-'], members).report.summary, plain.report.summary);
}));

test('damaged gzip data is one line naming the file and the compressed offset, exit 2; a cut-off stream is analyzed up to the cut', withTempDir((dir) => {
  const compressed = zlib.gzipSync(fs.readFileSync(CAPTURE));
  const bad = Buffer.from(compressed);
  for (let i = 40; i < 80; i++) bad[i]! ^= 0x5a;
  const file = path.join(dir, 'bad.pcapng.gz');
  fs.writeFileSync(file, bad);
  const r = runBin(['analyze', file]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /bad\.pcapng\.gz: byte \d+: gzip data is damaged .*\[ERR_BAD_GZIP\]/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  const cut = analyzeJson(['-'], compressed.subarray(0, compressed.length - 300));
  assert.equal(cut.code, 0, cut.stderr);
  const packets = (s: unknown) => (s as { packets: number }).packets;
  assert.ok(packets(cut.report.summary) < packets(plain.report.summary) && packets(cut.report.summary) > 0);
}));

test('a FIFO is read like a file while a writer fills it', withTempDir(async (dir) => {
  const fifo = path.join(dir, 'capture.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const writer = spawn('sh', ['-c', `cat "${CAPTURE}" > "${fifo}"`], { stdio: 'ignore' });
  const done = new Promise<number | null>((resolve) => writer.on('exit', resolve));
  const r = analyzeJson([fifo]);
  assert.equal(await done, 0);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.report.summary, plain.report.summary);
}));
