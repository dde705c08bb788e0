import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareWithExpectation, type Expectation } from '../src/regress/expectation';
import { REPO, runCli } from './cli-harness';

/**
 * Record the real-kernel scenarios again from scratch in fresh network namespaces and
 * check that the new capture gets the stored expectations. Needs root (CI runs as root).
 */
const SCENARIOS: [name: string, script: string][] = [
  ['docker0-overlap', 'record-docker0-overlap.sh'],
  ['refusals', 'record-refusals.sh'],
];

for (const [name, script] of SCENARIOS) {
  test(`re-recording ${name} in network namespaces gives the stored verdicts`, async () => {
    assert.equal(process.getuid?.(), 0, 'the namespace lab needs root (ip netns add); run the tests as root');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-lab-${name}-`));
    const out = path.join(dir, 'capture.pcapng');
    execFileSync('bash', [path.join(REPO, 'test', 'lab', script), out], { stdio: 'pipe', timeout: 60_000 });
    const expect = JSON.parse(fs.readFileSync(path.join(REPO, 'captures', name, 'expect.json'), 'utf8')) as Expectation;
    const r = await runCli('analyze', out, '--json', '--all-flows', ...(expect.args ?? []));
    assert.equal(r.code, 0, r.stderr);
    const diffs = compareWithExpectation(JSON.parse(r.stdout), expect);
    assert.deepEqual(diffs, [], diffs.join('\n'));
  });
}
