import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { anyDeviceFile } from './capture-cut';
import { errorLines, multiInterfaceScenarios } from './stored-scenarios';

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
  for (const { name, capture, context, options, whole } of multiInterfaceScenarios()) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-any-${name}-`));
    try {
      const file = anyDeviceFile(capture, context, path.join(dir, 'any.pcap'));
      if (file === null) continue;
      const cooked = analyzeFiles([file], options);
      assert.deepEqual(errorLines(cooked), errorLines(whole), `${name}: ${cooked.warnings.join(' | ')}`);
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
