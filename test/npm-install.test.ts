import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, STACK_LINE } from './cli-harness';

/**
 * The packed tarball installed the way a user installs it: `npm install -g` into a prefix
 * of its own, offline, from npm's cache. The tarball carries compiled JavaScript (packed
 * from this checkout's dist/, which `prepare` compiles), so nothing is compiled at install
 * time except the native addon, which the package's install script builds when g++, make,
 * python3 and libpcap-dev are there (like the other native tests, this one fails without
 * them). A second install with scripts blocked shows the one-line fix that `synscope live`
 * prints, and the test runs exactly that line.
 */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const CAPTURE = path.join(REPO, 'captures', 'docker0-overlap', 'capture.pcapng');
const ADDON = path.join('native', 'build', 'Release', 'synscope_native.node');
const QUIET = ['--no-audit', '--no-fund', '--no-update-notifier'];

let work: string;
let tarball: string;

function run(command: string, args: string[], cwd = work): Run {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error !== undefined) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what} exited ${r.code}:\n${r.stderr}`);
  return r;
}

function installGlobally(prefix: string, extra: string[]): string {
  ok(run('npm', ['install', '-g', '--offline', '--prefix', prefix, ...QUIET, ...extra, tarball]), `npm install -g --offline ${extra.join(' ')}`);
  return path.join(prefix, 'lib', 'node_modules', 'synscope');
}

function synscope(prefix: string, args: string[]): Run {
  return run(path.join(prefix, 'bin', 'synscope'), args);
}

/** Every directory name under `dir`, at any depth (symlinks not followed). */
function directoryNames(dir: string): Set<string> {
  const names = new Set<string>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isDirectory()) names.add(entry.name);
  }
  return names;
}

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-npm-install-'));
  const packed = ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work, ...QUIET], REPO), 'npm pack');
  const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
  tarball = path.join(work, filename);
  // `npm ci` caches the tarballs but only abbreviated registry documents, and
  // `npm install -g` asks for full ones: a dry run fetches what --offline will need.
  const priming = path.join(work, 'priming');
  fs.mkdirSync(path.join(priming, 'lib'), { recursive: true });
  ok(run('npm', ['install', '-g', '--prefer-offline', '--dry-run', '--prefix', priming, ...QUIET, tarball]), 'npm install -g --dry-run (filling the cache)');
});

after(() => {
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

test('the packed tarball holds compiled JavaScript, the addon sources and no build output', () => {
  const listing = ok(run('tar', ['-tzf', tarball]), 'tar -t').stdout.split('\n');
  for (const file of ['package/bin/synscope.js', 'package/dist/src/cli/main.js', 'package/dist/src/index.d.ts', 'package/native/binding.gyp', 'package/native/src/capture.c', 'package/schema/report.schema.json']) {
    assert.ok(listing.includes(file), `${file} is not in the tarball`);
  }
  const unwanted = listing.filter((f) => /^package\/(src|test|dist\/test|dist\/bench|native\/build|captures|node_modules)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'));
  assert.deepEqual(unwanted, []);
});

test('npm install -g from the cache puts synscope on the prefix PATH, builds the addon and installs no TypeScript', () => {
  const prefix = path.join(work, 'global');
  const installed = installGlobally(prefix, ['--ignore-scripts=false']);

  const dirs = directoryNames(path.join(prefix, 'lib', 'node_modules'));
  for (const devOnly of ['typescript', '@types', 'fast-check', 'pcap-parser']) assert.ok(!dirs.has(devOnly), `${devOnly} was installed`);
  assert.deepEqual(fs.readdirSync(path.join(prefix, 'bin')), ['synscope']);
  assert.ok(!fs.existsSync(path.join(installed, 'src')), 'TypeScript sources were installed');

  const version = ok(synscope(prefix, ['--version']), 'synscope --version');
  assert.equal(version.stdout.trim(), (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version);

  const analyzed = ok(synscope(prefix, ['analyze', CAPTURE, '--bridge', 'docker0=172.17.0.0/16', '--json']), 'synscope analyze');
  assert.deepEqual((JSON.parse(analyzed.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code), ['bridge-subnet-overlap']);

  assert.ok(fs.existsSync(path.join(installed, ADDON)), 'the install script did not build the native addon');
  // -f compiles the filter with libpcap through the addon: it loads in the installed tree.
  const filtered = ok(synscope(prefix, ['analyze', CAPTURE, '-f', 'tcp', '--json']), 'synscope analyze -f tcp');
  assert.deepEqual((JSON.parse(filtered.stdout) as { summary: { filter: unknown } }).summary.filter, { expression: 'tcp', read: 40, kept: 28 });
});

test('with install scripts blocked, synscope live names in one line the command that builds the addon, and that command works', () => {
  const prefix = path.join(work, 'blocked');
  const installed = installGlobally(prefix, ['--ignore-scripts']);
  assert.ok(!fs.existsSync(path.join(installed, ADDON)));

  const live = synscope(prefix, ['live', '--backend', 'native', '-i', 'lo', '--duration', '1s']);
  assert.equal(live.code, 2, live.stderr);
  assert.equal(live.stderr.trim().split('\n').length, 1, live.stderr);
  assert.doesNotMatch(live.stderr, STACK_LINE);
  const fix = /`(npm run build:native --prefix [^`]+)`/.exec(live.stderr);
  assert.ok(fix !== null, live.stderr);
  assert.ok(fix[1].includes(installed), `${fix[1]} does not name ${installed}`);

  ok(run('sh', ['-c', fix[1]], os.tmpdir()), fix[1]);
  assert.ok(fs.existsSync(path.join(installed, ADDON)));
  const filtered = ok(synscope(prefix, ['analyze', CAPTURE, '-f', 'tcp', '--json']), 'synscope analyze -f tcp after the build');
  assert.equal((JSON.parse(filtered.stdout) as { summary: { packets: number } }).summary.packets, 28);

  // The fallback backend names its fix the same way.
  const capLive = synscope(prefix, ['live', '--backend', 'cap', '-i', 'lo', '--duration', '1s']);
  assert.equal(capLive.code, 2, capLive.stderr);
  assert.equal(capLive.stderr.trim().split('\n').length, 1, capLive.stderr);
  const capFix = /`(npm rebuild cap --prefix [^`]+)`/.exec(capLive.stderr);
  assert.ok(capFix !== null, capLive.stderr);
  assert.ok(capFix[1].includes(installed), `${capFix[1]} does not name ${installed}`);
  ok(run('sh', ['-c', capFix[1]], os.tmpdir()), capFix[1]);
  const captured = ok(synscope(prefix, ['live', '--backend', 'cap', '-i', 'lo', '--duration', '1s', '--json']), 'synscope live --backend cap after the rebuild');
  assert.equal((JSON.parse(captured.stdout) as { inputs: { source: string }[] }).inputs[0]?.source, 'live:lo');
});
