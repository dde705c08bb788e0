import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareWithExpectation, resolveScenarioArgs, type Expectation } from '../src/regress/expectation';
import { REPO, runCli } from './cli-harness';

const CAPTURES = path.join(REPO, 'captures');

function scenarios(): string[] {
  return fs.readdirSync(CAPTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

function captureFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort().map((f) => path.join(dir, f));
}

test('captures/ holds scenarios, each with a capture, expect.json and README.md', () => {
  const names = scenarios();
  assert.ok(names.length > 0, 'a golden suite that finds zero cases fails');
  for (const name of names) {
    const dir = path.join(CAPTURES, name);
    assert.ok(fs.existsSync(path.join(dir, 'expect.json')), `${name}/expect.json`);
    assert.ok(fs.existsSync(path.join(dir, 'README.md')), `${name}/README.md`);
    assert.ok(captureFiles(dir).length > 0, `${name} has a capture`);
  }
});

for (const name of scenarios()) {
  test(`scenario ${name} still gets its expected verdicts`, async () => {
    const dir = path.join(CAPTURES, name);
    const expect = JSON.parse(fs.readFileSync(path.join(dir, 'expect.json'), 'utf8')) as Expectation;
    const r = await runCli('analyze', ...captureFiles(dir), '--json', '--all-flows', ...resolveScenarioArgs(expect.args ?? [], dir, fs.existsSync));
    assert.equal(r.code, 0, r.stderr);
    const diffs = compareWithExpectation(JSON.parse(r.stdout), expect);
    assert.deepEqual(diffs, [], diffs.join('\n'));
  });
}
