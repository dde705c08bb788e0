import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateWithMeta } from '../bench/generate';
import { analyzeFiles, type Analysis, type AnalyzeOptions } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import { loadHostContext } from '../src/context/load';
import { loadNativeTracker } from '../src/flow/native-tracker';
import { resolveScenarioArgs } from '../src/regress/expectation';
import { findScenarios } from '../src/regress/find-scenarios';
import { anyDeviceFile, perInterfaceFiles } from './capture-cut';
import { REPO } from './cli-harness';
import { multiInterfaceScenarios } from './stored-scenarios';
import { corpus, readPcapFrames } from './decode-helpers';
import { tempDir } from './temp-dir';

/**
 * `analyze` with the C tracker (the default for files) against the JS tracker: the whole
 * analysis (flows, groups, stitched attempts, evidence, findings, warnings, counts) must be
 * the same. Needs the built addon (`npm run build:native`): without it the tests fail, they
 * do not skip.
 */

function both(files: readonly string[], options: AnalyzeOptions = {}): { js: Analysis; c: Analysis } {
  return { js: analyzeFiles(files, { ...options, nativeTracker: false }), c: analyzeFiles(files, { ...options, nativeTracker: true }) };
}

/** Analyses as compared: JSON, with Maps and Sets as their entries. */
function comparable(a: Analysis): unknown {
  return JSON.parse(JSON.stringify(a, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v instanceof Set ? [...v] : v)));
}

test('the addon has the native tracker', () => {
  const load = loadNativeTracker();
  assert.ok('addon' in load, 'reason' in load ? load.reason : '');
});

test('every stored scenario analyzes the same with the C tracker, with its own options', () => {
  let compared = 0;
  for (const sc of findScenarios(path.join(REPO, 'captures'))) {
    const expect = JSON.parse(fs.readFileSync(sc.expectFile!, 'utf8')) as { args?: string[] };
    const args = resolveScenarioArgs(expect.args ?? [], sc.dir, fs.existsSync);
    if (args.includes('--host')) continue;
    const at = args.indexOf('--context');
    const context = at >= 0 ? loadHostContext(args[at + 1]!) : null;
    const options: AnalyzeOptions = context === null ? {} : { context, bridges: bridgesFromContext(context), kernel: context.kernelEvidence ?? null };
    const { js, c } = both(sc.captures, options);
    assert.deepEqual(comparable(c), comparable(js), path.basename(sc.dir));
    compared++;
  }
  assert.ok(compared >= 40, `${compared} scenarios compared`);
});

test('the stored multi-interface scenarios cut as tcpdump would write them (a file per interface, SLL2 -i any) analyze the same', () => {
  let compared = 0;
  for (const sc of multiInterfaceScenarios()) {
    const dir = tempDir('synscope-native-cut-');
    const any = anyDeviceFile(sc.capture, sc.context, path.join(dir, 'any.pcap'));
    for (const files of [perInterfaceFiles(sc.capture, dir), ...(any === null ? [] : [[any]])]) {
      const { js, c } = both(files, sc.options);
      assert.deepEqual(comparable(c), comparable(js), `${sc.name}: ${files.map((f) => path.basename(f)).join(' ')}`);
      compared++;
    }
  }
  assert.ok(compared >= 40, `${compared} cuts compared`);
});

test('every capture fixture analyzes the same with the C tracker, also keeping every flow', () => {
  const dir = path.join(REPO, 'test', 'fixtures', 'capture');
  const files = [...fs.readdirSync(dir).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).map((f) => path.join(dir, f)), ...fs.readdirSync(path.join(REPO, 'test', 'native-tracker')).map((f) => path.join(REPO, 'test', 'native-tracker', f))];
  for (const file of files) {
    for (const options of [{}, { allFlows: true }, { zeekTimers: true }]) {
      const { js, c } = both([file], options);
      assert.deepEqual(comparable(c), comparable(js), `${path.basename(file)} ${JSON.stringify(options)}`);
    }
  }
  assert.ok(files.length >= 40, `${files.length} fixtures`);
});

test('captures bigger than the read window (records held across its moves) analyze the same, one file and two at once', () => {
  const dir = tempDir('synscope-native-');
  // About 9 MB each: the 4 MiB window moves twice or more in each, and the two files' records interleave.
  const a = generateWithMeta({ packets: 36000, out: path.join(dir, 'a.pcap'), seed: 3 });
  const b = generateWithMeta({ packets: 36000, out: path.join(dir, 'b.pcap'), seed: 4 });
  assert.ok(a.bytes > 8 << 20 && b.bytes > 8 << 20);
  for (const files of [[a.file], [a.file, b.file]]) {
    const { js, c } = both(files, { allFlows: true });
    assert.equal(c.summary.packets, files.length * 36000);
    assert.ok(c.flows.length > 4000);
    assert.deepEqual(comparable(c), comparable(js), files.map((f) => path.basename(f)).join(' '));
    // A selective filter: a kept frame can wait in a batch while the window moves twice over
    // records the filter drops, and the window's second move writes over its buffer.
    const filtered = both(files, { allFlows: true, filter: 'tcp port 5432' });
    assert.ok(filtered.c.summary.filter!.kept < filtered.c.summary.filter!.read / 3, JSON.stringify(filtered.c.summary.filter));
    assert.deepEqual(comparable(filtered.c), comparable(filtered.js), `${files.map((f) => path.basename(f)).join(' ')} -f 'tcp port 5432'`);
  }
});

test('a pcapng whose window moves twice inside one record (megabytes of blocks that hold no packet) analyzes the same', () => {
  const dir = tempDir('synscope-native-blocks-');
  const file = path.join(dir, 'blocks.pcapng');
  const frames = readPcapFrames(corpus('zeek/ftp__ipv6.pcap'));
  const block = (type: number, body: Buffer): Buffer => {
    const b = Buffer.alloc(12 + body.length + ((4 - (body.length % 4)) % 4));
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(b.length, 4);
    body.copy(b, 8);
    b.writeUInt32LE(b.length, b.length - 4);
    return b;
  };
  const shb = block(0x0a0d0d0a, Buffer.from([0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  const idb = block(1, Buffer.from([frames[0]!.linkType, 0, 0, 0, 0, 0, 4, 0]));
  const epb = (i: number, frame: Buffer): Buffer => {
    const head = Buffer.alloc(20);
    const micros = BigInt(1_700_000_000 + i) * 1_000_000n;
    head.writeUInt32LE(0, 0);
    head.writeUInt32LE(Number(micros >> 32n), 4);
    head.writeUInt32LE(Number(micros & 0xffffffffn), 8);
    head.writeUInt32LE(frame.length, 12);
    head.writeUInt32LE(frame.length, 16);
    return block(6, Buffer.concat([head, frame]));
  };
  // Custom blocks (0x40000BAD, no packet) of 256 KiB: 40 of them, 10 MiB, between two packets.
  const filler = block(0x40000bad, Buffer.alloc(256 * 1024));
  const parts = [shb, idb];
  frames.forEach((f, i) => {
    parts.push(epb(i, f.data));
    if (i % 4 === 1) for (let k = 0; k < 40; k++) parts.push(filler);
  });
  fs.writeFileSync(file, Buffer.concat(parts));
  assert.ok(fs.statSync(file).size > 20 << 20);
  const { js, c } = both([file], { allFlows: true });
  assert.equal(c.summary.packets, frames.length);
  assert.ok(c.flows.length > 0);
  assert.deepEqual(comparable(c), comparable(js));
});
