import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, STACK_LINE } from './cli-harness';
import { tempDir } from './temp-dir';

/**
 * An install where neither the native addon nor the cap binding was built (no libpcap-dev,
 * no compiler): a copy of the package with dist/ and every dependency except cap, and no
 * native/build. File analysis must work; live capture must say what to install.
 */
function installWithoutCaptureLibs(): string {
  const root = tempDir('synscope-nolibs-');
  fs.cpSync(path.join(REPO, 'bin'), path.join(root, 'bin'), { recursive: true });
  fs.cpSync(path.join(REPO, 'dist'), path.join(root, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(REPO, 'package.json'), path.join(root, 'package.json'));
  fs.mkdirSync(path.join(root, 'node_modules'));
  for (const name of fs.readdirSync(path.join(REPO, 'node_modules'))) {
    if (name === 'cap' || name.startsWith('.')) continue;
    fs.symlinkSync(path.join(REPO, 'node_modules', name), path.join(root, 'node_modules', name));
  }
  return root;
}

function run(root: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'synscope.js'), ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('without the native addon and cap, analyze works and live names the apt and npm commands', () => {
  const root = installWithoutCaptureLibs();
  const capture = path.join(REPO, 'captures', 'docker0-overlap', 'capture.pcapng');
  const analyzed = run(root, ['analyze', capture, '--bridge', 'docker0=172.17.0.0/16', '--json']);
  assert.equal(analyzed.code, 0, analyzed.stderr);
  assert.deepEqual((JSON.parse(analyzed.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code), ['bridge-subnet-overlap']);

  const live = run(root, ['live', '-i', 'lo', '--duration', '1s']);
  assert.equal(live.code, 2, live.stderr);
  assert.equal(live.stderr.trim().split('\n').length, 1, live.stderr);
  assert.doesNotMatch(live.stderr, STACK_LINE);
  assert.match(live.stderr, /npm run build:native/);
  assert.match(live.stderr, /apt-get install -y .*libpcap-dev/);
  assert.match(live.stderr, /npm rebuild cap/);

  const netns = run(root, ['live', '--netns', 'somewhere:eth0', '--duration', '1s']);
  assert.equal(netns.code, 2, netns.stderr);
  assert.equal(netns.stderr.trim().split('\n').length, 1, netns.stderr);
});
