import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateWithMeta, metaPath } from '../bench/generate';

/** Minimal classic-pcap walk (little-endian microsecond, as the generator writes), independent of src/capture. */
function* records(file: Buffer): Generator<{ ts: number; frame: Buffer }> {
  assert.equal(file.readUInt32LE(0), 0xa1b2c3d4);
  assert.equal(file.readUInt32LE(20), 1);
  let p = 24;
  while (p < file.length) {
    const sec = file.readUInt32LE(p);
    const usec = file.readUInt32LE(p + 4);
    const caplen = file.readUInt32LE(p + 8);
    assert.equal(file.readUInt32LE(p + 12), caplen);
    yield { ts: sec * 1e6 + usec, frame: file.subarray(p + 16, p + 16 + caplen) };
    p += 16 + caplen;
  }
  assert.equal(p, file.length);
}

const TOOL_TCPDUMP = spawnSync('sh', ['-c', 'command -v tcpdump']).status === 0;

test('generator: exact packet count, time order, outcomes as its meta says, deterministic', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gen-'));
  try {
    const out = path.join(dir, 'a.pcap');
    const meta = generateWithMeta({ packets: 20000, out, seed: 7 });
    assert.deepEqual(JSON.parse(fs.readFileSync(metaPath(out), 'utf8')), JSON.parse(JSON.stringify(meta)));
    const bytes = fs.readFileSync(out);
    assert.equal(bytes.length, meta.bytes);

    let n = 0;
    let last = -1;
    const synTuples = new Set<string>();
    const answered = new Set<string>();
    const rst = new Set<string>();
    let syns = 0;
    let v6 = 0;
    for (const { ts, frame } of records(bytes)) {
      n++;
      assert.ok(ts >= last, `packet ${n} goes back in time`);
      last = ts;
      const type = frame.readUInt16BE(12);
      const isV6 = type === 0x86dd;
      assert.ok(isV6 || type === 0x0800);
      const l3 = 14;
      const l4 = isV6 ? l3 + 40 : l3 + (frame[l3]! & 15) * 4;
      const addr = (off: number, len: number): string => frame.toString('hex', off, off + len);
      const src = isV6 ? addr(l3 + 8, 16) : addr(l3 + 12, 4);
      const dst = isV6 ? addr(l3 + 24, 16) : addr(l3 + 16, 4);
      const sport = frame.readUInt16BE(l4);
      const dport = frame.readUInt16BE(l4 + 2);
      const flags = frame[l4 + 13]!;
      const optLen = (frame[l4 + 12]! >> 4) * 4 - 20;
      const opts = frame.subarray(l4 + 20, l4 + 20 + optLen);
      if (flags === 0x02) {
        syns++;
        const key = `${src}:${sport}>${dst}:${dport}`;
        if (!synTuples.has(key) && isV6) v6++;
        synTuples.add(key);
        // MSS, SACK-permitted + TS, NOP + window scale: Linux's SYN layout.
        assert.equal(opts.length, 20);
        assert.equal(opts[0], 2);
        assert.equal(opts.toString('hex', 4, 8), '0402080a');
        assert.equal(opts.toString('hex', 16, 19), '010303');
      } else {
        const key = `${dst}:${dport}>${src}:${sport}`;
        if (flags === 0x12) answered.add(key);
        if (flags & 0x04) {
          rst.add(key);
          assert.equal(optLen, 0);
        } else {
          // Timestamps on every other segment.
          assert.ok(opts.includes(Buffer.from([8, 10])), `packet ${n} lacks timestamps`);
        }
      }
    }
    assert.equal(n, 20000);
    assert.equal(synTuples.size, meta.handshakes.attempted);
    assert.equal(answered.size, meta.handshakes.completed);
    assert.equal(rst.size, meta.handshakes.rejected);
    const silent = [...synTuples].filter((k) => !answered.has(k) && !rst.has(k)).length;
    assert.equal(silent, meta.handshakes.unanswered);
    assert.equal(syns, meta.flows + meta.synRetransmits);
    assert.equal(v6, meta.ipv6Flows);
    // Shares roughly as designed: ~5% unanswered, ~3% refused, about 8 packets per attempt.
    assert.ok(Math.abs(meta.handshakes.unanswered / meta.flows - 0.05) < 0.015, `unanswered share ${meta.handshakes.unanswered / meta.flows}`);
    assert.ok(Math.abs(meta.handshakes.rejected / meta.flows - 0.03) < 0.012);
    assert.ok(Math.abs(20000 / meta.flows - 8) < 0.5, `${20000 / meta.flows} packets per flow`);

    const again = path.join(dir, 'b.pcap');
    generateWithMeta({ packets: 20000, out: again, seed: 7 });
    assert.ok(fs.readFileSync(again).equals(bytes), 'same seed, different bytes');
    const other = path.join(dir, 'c.pcap');
    generateWithMeta({ packets: 20000, out: other, seed: 8 });
    assert.ok(!fs.readFileSync(other).equals(bytes), 'the seed changes nothing');

    if (TOOL_TCPDUMP) {
      const r = spawnSync('tcpdump', ['-r', out, '-nn', '-v'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /incorrect|bad cksum/);
      assert.equal(r.stdout.match(/\(correct\)/g)?.length, 20000);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('generator writes into /dev/null in place, never renaming over it', () => {
  const before = fs.statSync('/dev/null');
  assert.ok(before.isCharacterDevice());
  const r = generateWithMeta({ packets: 50, out: '/dev/null' });
  assert.equal(r.packets, 50);
  const after = fs.statSync('/dev/null');
  assert.ok(after.isCharacterDevice());
  assert.equal(after.ino, before.ino);
  assert.equal(fs.existsSync('/dev/null.meta.json'), false);
});
