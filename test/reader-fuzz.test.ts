import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { openCaptureFile } from '../src/capture/open';
import { SynscopeError } from '../src/errors';
import { analyzeReaders } from '../src/analysis';
import { toReportJson } from '../src/report/json';
import { CORPUS, findCaptures, openBytes, readAll } from './capture-helpers';
import { hostilePcapng } from './hostile-pcapng';

/** Read to the end; returns the record count, or the SynscopeError thrown. Anything else propagates. */
function drain(bytes: Uint8Array, step?: number): number | SynscopeError {
  try {
    const reader = openBytes(bytes, step, 'fuzz');
    let n = 0;
    while (reader.next() !== null) {
      n++;
      // Every record consumes at least 12 bytes, so more records than that means a loop.
      assert.ok(n <= bytes.length / 12 + 1, 'reader does not terminate');
    }
    return n;
  } catch (e) {
    if (e instanceof SynscopeError) return e;
    throw e;
  }
}

test('every corpus file reads to the end or throws SynscopeError, and reads the same one byte at a time', () => {
  const files = findCaptures(CORPUS, /./).filter((f) => !f.endsWith('.md'));
  assert.ok(files.length >= 100, `corpus copied into test/fixtures/corpus (${files.length} files)`);
  let captures = 0;
  for (const file of files) {
    const bytes = fs.readFileSync(file);
    const whole = drain(bytes);
    if (typeof whole === 'number') captures++;
    if (bytes.length < 200_000) {
      const bytewise = drain(bytes, 1);
      assert.deepEqual(typeof bytewise === 'number' ? bytewise : bytewise.code, typeof whole === 'number' ? whole : whole.code, file);
    }
  }
  assert.ok(captures >= 80, `${captures} corpus captures read`);
});

test('corpus capture files read completely: no truncation, no error', () => {
  for (const file of findCaptures(CORPUS)) {
    const reader = openCaptureFile(file);
    readAll(reader);
    assert.equal(reader.stats.truncatedAt, null, file);
    assert.equal(reader.stats.bytesRead, fs.statSync(file).size, file);
    reader.close();
  }
});

/** Small, structurally varied seeds: both formats, both byte orders, SPB/ISB/multi-section. */
const SEEDS = [
  'tcpdump/pptp.pcap',
  'tcpdump/tcp-handshake-nano.pcap',
  'tcpdump/heapoverflow-tcp_print.pcap',
  'zeek/tcp__syn-then-rst.pcap',
  'pcapng-test-generator/be_difficult_test201.pcapng',
  'pcapng-test-generator/le_difficult_test202.pcapng',
  'pcapng-test-generator/le_basic_test010.pcapng',
  'pcapng-test-generator/le_basic_test018.pcapng',
  'wireshark/dhcp-nanosecond.pcapng',
].map((f) => {
  const bytes = fs.readFileSync(path.join(CORPUS, f));
  const offsets = readAll(openBytes(bytes)).map((r) => r.fileOffset);
  return { name: f, bytes, offsets };
});

type Mutation =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'length'; record: number; field: number; value: number }
  | { kind: 'time'; record: number; field: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({
    kind: fc.constant('length' as const),
    record: fc.nat(),
    field: fc.constantFrom(4, 8, 12, 20, 24),
    value: fc.oneof(fc.constantFrom(0, 1, 11, 12, 13, 0xffffffff, 0x7fffffff, 262144, 262145), fc.nat()),
  }),
  fc.record({
    kind: fc.constant('time' as const),
    record: fc.nat(),
    // pcap: seconds, fraction; pcapng EPB: timestamp high, low.
    field: fc.constantFrom(0, 4, 12, 16),
    value: fc.oneof(fc.constantFrom(0, 0xffffffff, 0x80000000, 0x7fffffff, 999_999_999, 1_000_000_000), fc.nat()),
  }),
);

function mutate(seed: (typeof SEEDS)[number], mutations: Mutation[]): Buffer {
  let b = Buffer.from(seed.bytes);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = 'at' in m ? m.at % b.length : 0;
    if (m.kind === 'flip') b[at] ^= m.mask;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    else if (seed.offsets.length > 0) {
      // Corrupt a length or time (or neighbouring) field of a real record/block header.
      const where = seed.offsets[m.record % seed.offsets.length] + m.field;
      if (where + 4 <= b.length) b.writeUInt32LE(m.value >>> 0, where);
    }
  }
  return b;
}

test('fuzz: mutated corpus files never throw anything but SynscopeError and always terminate', () => {
  fc.assert(
    fc.property(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 5 }), fc.boolean(), (seed, mutations, bytewise) => {
      const bytes = mutate(seed, mutations);
      const whole = drain(bytes);
      if (bytewise) {
        const stepped = drain(bytes, 1);
        assert.deepEqual(typeof stepped === 'number' ? stepped : stepped.code, typeof whole === 'number' ? whole : whole.code);
      }
    }),
    { numRuns: 1500 },
  );
});

/** Every time a report of these bytes prints is RFC 3339 with a year 0001..9999, or null; or the file is refused with a SynscopeError. */
function assertPrintableTimes(bytes: Uint8Array): void {
  let json;
  try {
    json = toReportJson(analyzeReaders([openBytes(bytes, undefined, 'fuzz')], { allFlows: true }));
  } catch (e) {
    if (e instanceof SynscopeError) return;
    throw e;
  }
  const times = [...json.flows.flatMap((f) => [f.firstSeen, f.lastSeen]), ...json.findings.flatMap((f) => [f.evidence['firstSeen'], f.evidence['lastSeen']].filter((t) => t !== undefined))];
  for (const t of times) assert.ok(t === null || (typeof t === 'string' && RFC3339.test(t)), `time ${JSON.stringify(t)}`);
}

const RFC3339 = /^(000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3,6}Z$/;

test('fuzz: corpus files with mutated record times analyze to printable times or a SynscopeError', () => {
  const timeMutation = fc.record({
    kind: fc.constant('time' as const),
    record: fc.nat(),
    field: fc.constantFrom(0, 4, 12, 16),
    value: fc.oneof(fc.constantFrom(0, 0xffffffff, 0x80000000, 0x7fffffff, 999_999_999, 1_000_000_000), fc.nat()),
  });
  fc.assert(
    fc.property(fc.constantFrom(...SEEDS), fc.array(timeMutation, { minLength: 1, maxLength: 6 }), (seed, mutations) => assertPrintableTimes(mutate(seed, mutations))),
    { numRuns: 300 },
  );
});

test('fuzz: any if_tsresol, if_tsoffset and 64-bit timestamps read exactly or give ERR_BAD_TIME_OPTION, and print as RFC 3339 or null', () => {
  const u64 = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n, 1_700_000_000_000_000n));
  const i64 = fc.oneof(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.bigInt({ min: -100_000_000_000n, max: 100_000_000_000n }), fc.constant(undefined));
  const tsresol = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 6, 9, 19, 20, 0x7f, 0x80, 0x80 | 63, 0x80 | 64, 0xff), fc.constant(undefined));
  fc.assert(
    fc.property(tsresol, i64, fc.array(u64, { minLength: 1, maxLength: 4 }), (resol, offset, stamps) => {
      const bytes = hostilePcapng({ tsresol: resol, tsoffset: offset }, stamps);
      const read = drain(bytes);
      if (read instanceof SynscopeError) {
        assert.equal(read.code, 'ERR_BAD_TIME_OPTION');
        return;
      }
      assert.equal(read, stamps.length);
      for (const r of readAll(openBytes(bytes))) assert.ok(Number.isFinite(r.tsSec) && Number.isInteger(r.tsNsec) && r.tsNsec >= 0 && r.tsNsec < 1e9, `${r.tsSec} s ${r.tsNsec} ns`);
      assertPrintableTimes(bytes);
    }),
    { numRuns: 400 },
  );
});
