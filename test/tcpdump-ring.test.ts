import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import { loadHostContext } from '../src/context/load';
import { resolveScenarioArgs } from '../src/regress/expectation';
import { findScenarios } from '../src/regress/find-scenarios';
import { REPO } from './cli-harness';
import { perInterfaceFiles, ringFiles } from './capture-cut';

/** Like tcpdump-per-interface.test.ts: no frame of the host crossed this bridge, so the cause comes under another code. */
const SAME_CAUSE_OTHER_CODE = new Set(['docker-real-network-isolation']);

/**
 * A rotating tcpdump (`-C 100 -W 5 -w eth0.pcap`) leaves one interface's capture in
 * eth0.pcap0, eth0.pcap1...: they are one interface, named eth0. Every stored scenario captured
 * in one pcapng is written as such rings, rotated 1.5 s after its first SYN (so an attempt's
 * retransmissions fall in the next file), and analyzed with its context and without: each
 * error finding of the whole capture comes back with its confidence, and no other. Before,
 * each ring file was an interface of its own and a flow seen in two of them "two hops".
 */
test('each stored scenario as rotating tcpdumps (NAME.pcap0, NAME.pcap1 per interface) gives the whole capture\'s errors, with its snapshot and without', () => {
  let checked = 0;
  for (const sc of findScenarios(path.join(REPO, 'captures'))) {
    const expect = JSON.parse(fs.readFileSync(sc.expectFile!, 'utf8')) as { args?: string[] };
    const args = resolveScenarioArgs(expect.args ?? [], sc.dir, fs.existsSync);
    if (args.includes('--host') || sc.captures.length !== 1 || !sc.captures[0]!.endsWith('.pcapng')) continue;
    const at = args.indexOf('--context');
    const context = at < 0 ? null : loadHostContext(args[at + 1]!);
    const name = path.basename(sc.dir);
    const first = analyzeFiles(sc.captures, { allFlows: true }).flows.map((f) => f.firstSynAt ?? Infinity);
    if (first.length === 0) continue;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-ring-${name}-`));
    try {
      const files = ringFiles(sc.captures[0]!, dir, Math.min(...first) + 1.5);
      for (const options of context === null ? [{}] : [{ context, bridges: bridgesFromContext(context), kernel: context.kernelEvidence ?? null }, {}]) {
        const whole = analyzeFiles(sc.captures, options);
        const ring = analyzeFiles(files, options);
        const errors = (a: typeof whole) => a.findings.filter((f) => f.severity === 'error').map((f) => `${SAME_CAUSE_OTHER_CODE.has(name) ? '' : f.code} ${f.confidence} ${f.evidence['clients']}`).sort();
        assert.deepEqual(errors(ring), errors(whole), `${name} (${'context' in options ? 'with' : 'without'} its snapshot): ${ring.warnings.join(' | ')}`);
        assert.equal(ring.interfaceNames.length, whole.interfaceNames.length, `${name}: one interface per ring (${ring.interfaceNames.join(', ')})`);
        checked++;
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  assert.ok(checked >= 60, `${checked} analyses checked`);
});

test('files of one name that overlap in time (a loop writing capture.pcap1, capture.pcap2, one per interface) stay separate interfaces, each named after its whole file', () => {
  const scenario = path.join(REPO, 'captures', 'docker-real-docker-user-drop');
  const context = loadHostContext(path.join(scenario, 'context.json'));
  const options = { context, bridges: bridgesFromContext(context), kernel: context.kernelEvidence ?? null };
  const whole = analyzeFiles([path.join(scenario, 'capture.pcapng')], options);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-loop-'));
  try {
    const files = perInterfaceFiles(path.join(scenario, 'capture.pcapng'), dir).map((f, i) => {
      const renamed = path.join(dir, `capture.pcap${i + 1}`);
      fs.renameSync(f, renamed);
      return renamed;
    });
    const loop = analyzeFiles(files);
    assert.deepEqual(loop.interfaceNames, ['capture.pcap1', 'capture.pcap2']);
    const named = analyzeFiles(files, options);
    const errors = (a: typeof whole) => a.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.confidence} ${f.evidence['clients']}`).sort();
    assert.deepEqual(errors(named), errors(whole), named.warnings.join(' | '));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
