import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
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

test('synscope test captures: every stored scenario still gets its expected verdicts', async () => {
  const r = await runCli('test', CAPTURES);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  for (const name of scenarios()) assert.match(r.stdout, new RegExp(`│ ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +│ pass `), `${name} ran and passed`);
});
