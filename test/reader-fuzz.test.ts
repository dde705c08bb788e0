import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { openCaptureFile } from '../src/capture/open';
import { SynscopeError } from '../src/errors';
import { CORPUS, findCaptures, openBytes, readAll } from './capture-helpers';

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
  | { kind: 'length'; record: number; field: number; value: number };

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
      // Corrupt a length (or neighbouring) field of a real record/block header.
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
