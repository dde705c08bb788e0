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
import { anyDeviceFile } from './capture-cut';

/**
 * `tcpdump -i any -w x.pcap`, what an operator runs first: every stored scenario captured on
 * several interfaces, with a host context, is written again as Linux cooked v2 records (the
 * ifindex instead of the interface's name, the sender's MAC only) and analyzed with its
 * context: each error finding of the whole capture comes back with its confidence, and no
 * other error appears. The interfaces are named from the snapshot by ifindex only at the end,
 * so whatever was built from their names before must follow.
 */
test("each stored multi-interface scenario as one `tcpdump -i any` capture gives the whole capture's errors", () => {
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
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-any-${path.basename(sc.dir)}-`));
    try {
      const file = anyDeviceFile(sc.captures[0]!, context, path.join(dir, 'any.pcap'));
      if (file === null) continue;
      const cooked = analyzeFiles([file], options);
      const name = path.basename(sc.dir);
      const errors = (a: typeof whole) => a.findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${f.confidence} ${f.evidence['clients']}`).sort();
      assert.deepEqual(errors(cooked), errors(whole), `${name}: ${cooked.warnings.join(' | ')}`);
      // Interfaces of other namespaces (eth0@ingress_sbox) are not in the host's `-i any`.
      const hostOwn = whole.interfaceNames.filter((n) => context.interfaces.some((i) => i.name === n));
      assert.deepEqual([...cooked.interfaceNames].sort(), hostOwn.sort(), `${name}: every ifindex named from the snapshot`);
      checked++;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  assert.ok(checked >= 30, `${checked} scenarios checked`);
});
