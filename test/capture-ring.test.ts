import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emptyHostContext } from '../src/context/empty-context';
import { CaptureRing, type RingInterface } from '../src/watch/capture-ring';
import { openBytes, readAll } from './capture-helpers';

const ETHERNET = 1;
const eth0: RingInterface = { name: 'eth0', linkType: ETHERNET, description: 'eth0 in network namespace of synscope', snaplen: 256 };
const docker0: RingInterface = { name: 'docker0', linkType: ETHERNET, description: 'docker0 in network namespace of synscope', snaplen: 256 };
/** 54 bytes: an Ethernet, IPv4 and TCP header; an EPB of 88 bytes in the file. */
const FRAME = Buffer.alloc(54, 0xab);
const T0 = 1_765_000_000;

test('the ring closes a file at its size, keeps only the last N (contexts with them), and a file describes each interface it holds once', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-ring-'));
  try {
    const ring = new CaptureRing({ dir, files: 3, bytesPerFile: 1000, prefix: 'synscope-node' });
    const context = emptyHostContext({ capturedAt: new Date(T0 * 1000).toISOString(), hostname: 'node', namespace: 'host', kernelRelease: '6.1' });
    ring.setContext(context);
    // 100 packets alternating between two interfaces; about 10 per 1000-byte file.
    for (let n = 0; n < 100; n++) ring.write(n % 2 === 0 ? eth0 : docker0, FRAME, T0 + n, n, 1514);
    ring.close();
    ring.close();

    const pcapngs = fs.readdirSync(dir).filter((f) => f.endsWith('.pcapng')).sort();
    assert.equal(pcapngs.length, 3, pcapngs.join(' '));
    assert.deepEqual(pcapngs.map((f) => path.join(dir, f)), [...ring.files()]);
    for (const f of pcapngs) assert.match(f, /^synscope-node_\d{5}_\d{14}\.pcapng$/);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.context.json')).sort(), pcapngs.map((f) => f.replace('.pcapng', '.context.json')));

    const packets = pcapngs.map((f) => readAll(openBytes(fs.readFileSync(path.join(dir, f)))));
    const all = packets.flat();
    // The newest files hold the last packets, in order, each whole, with its original length.
    assert.equal(all[all.length - 1]!.tsSec, T0 + 99);
    for (let k = 1; k < all.length; k++) assert.equal(all[k]!.tsSec, all[k - 1]!.tsSec + 1);
    for (const p of all) {
      assert.equal(p.caplen, FRAME.length);
      assert.equal(p.origLen, 1514);
    }
    // Within a file, eth0's packets (even seconds) share one interface index and docker0's the other.
    for (const file of packets) {
      const indexOf = (even: boolean) => new Set(file.filter((p) => (p.tsSec - T0) % 2 === (even ? 0 : 1)).map((p) => p.interfaceIndex));
      assert.equal(indexOf(true).size, 1);
      assert.equal(indexOf(false).size, 1);
      assert.notDeepEqual([...indexOf(true)], [...indexOf(false)]);
    }
    for (const [k, f] of pcapngs.entries()) {
      const bytes = fs.readFileSync(path.join(dir, f));
      if (k < pcapngs.length - 1) assert.ok(bytes.length >= 1000 && bytes.length < 1000 + 88, `${f}: ${bytes.length} bytes`);
      // Two IDBs (type 1) per file, whatever its number of packets.
      assert.equal(countBlocks(bytes, 1), 2, f);
    }
    const first = Number(/_(\d{5})_/.exec(pcapngs[0]!)![1]);
    assert.ok(first > 1, 'the oldest files were deleted');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Blocks of `type` in a little-endian pcapng. */
function countBlocks(bytes: Buffer, type: number): number {
  let n = 0;
  for (let off = 0; off + 8 <= bytes.length; off += bytes.readUInt32LE(off + 4)) if (bytes.readUInt32LE(off) === type) n++;
  return n;
}
