import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { perInterfaceFiles } from './capture-cut';
import { errorLines, multiInterfaceScenarios } from './stored-scenarios';

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
  for (const { name, capture, options, whole } of multiInterfaceScenarios()) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-tcpdumps-${name}-`));
    try {
      const cut = analyzeFiles(perInterfaceFiles(capture, dir), options);
      assert.deepEqual(errorLines(cut, name in UNNAMEABLE), errorLines(whole, name in UNNAMEABLE), `${name}: ${cut.warnings.join(' | ')}`);
      checked++;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  assert.ok(checked >= 30, `${checked} scenarios checked`);
});
