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
import { perInterfaceFiles } from './capture-cut';

/**
 * Interfaces no frame of the host crossed cannot be named from MACs: there the cut gives its
 * errors the same clients and confidence, not always the same code.
 */
const UNNAMEABLE: Record<string, string> = {
  'docker-real-network-isolation': "br-55aa2abe355f saw only an ARP between two containers: filtered names Docker's isolation rule instead of nat-path-break naming the bridge the SYN never reached",
};

/**
 * What operators send most: one tcpdump per interface, each a classic pcap that names no
 * interface ("a.pcap", "b.pcap"). Every stored scenario captured on several interfaces, with
 * a host context, is cut that way (in file order, one file per interface) and analyzed with
 * its context: each error finding of the whole capture comes back with its confidence, and no
 * other error appears. Only the interface names differ in the cut, so the snapshot must name
 * the files' interfaces from their frames' MACs for the rules to follow it.
 */
test('each stored multi-interface scenario as one classic pcap per interface gives the whole capture\'s errors', () => {
  let checked = 0;
  for (const sc of findScenarios(path.join(REPO, 'captures'))) {
    const expect = JSON.parse(fs.readFileSync(sc.expectFile!, 'utf8')) as { args?: string[] };
    const args = resolveScenarioArgs(expect.args ?? [], sc.dir, fs.existsSync);
    const at = args.indexOf('--context');
    if (at < 0 || args.includes('--host') || sc.captures.length !== 1 || !sc.captures[0]!.endsWith('.pcapng')) continue;
    const context = loadHostContext(args[at + 1]!);
    const options = { context, bridges: bridgesFromContext(context), kernel: context.kernelEvidence ?? null };
    const whole = analyzeFiles(sc.captures, options);
    if (whole.interfaceNames.length < 2) continue;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-tcpdumps-${path.basename(sc.dir)}-`));
    try {
      const cut = analyzeFiles(perInterfaceFiles(sc.captures[0]!, dir), options);
      const name = path.basename(sc.dir);
      const errors = (a: typeof whole) => a.findings.filter((f) => f.severity === 'error').map((f) => `${name in UNNAMEABLE ? '' : f.code} ${f.confidence} ${f.evidence['clients']}`).sort();
      assert.deepEqual(errors(cut), errors(whole), `${name}: ${cut.warnings.join(' | ')}`);
      checked++;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  assert.ok(checked >= 30, `${checked} scenarios checked`);
});
