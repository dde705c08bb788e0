import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Expectation } from '../src/regress/expectation';
import type { ScenarioRunJson } from '../src/report/scenarios-json';
import { REPO, runCli, STACK_LINE } from './cli-harness';
import { tempDir } from './temp-dir';

/** Two stored scenarios: one with args naming a file beside the capture, one with several findings of one code. */
const WITH_CONTEXT = 'route-conflict';
const SEVERAL_FINDINGS = 'refusals';

/** A fresh incident folder holding copies of the named stored scenarios. */
function incidentDir(...names: string[]): string {
  const dir = tempDir('synscope-regress-');
  for (const n of names) fs.cpSync(path.join(REPO, 'captures', n), path.join(dir, n), { recursive: true });
  return dir;
}

function readExpect(dir: string, name: string): Expectation {
  return JSON.parse(fs.readFileSync(path.join(dir, name, 'expect.json'), 'utf8')) as Expectation;
}

function editExpect(dir: string, name: string, edit: (e: Expectation) => void): void {
  const e = readExpect(dir, name);
  edit(e);
  fs.writeFileSync(path.join(dir, name, 'expect.json'), JSON.stringify(e, null, 2));
}

test('copied scenarios pass in a folder of their own (args resolved beside the capture), exit 0', async () => {
  const dir = incidentDir(WITH_CONTEXT, SEVERAL_FINDINGS);
  const r = await runCli('test', dir);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /│ route-conflict +│ pass +│ 3 +│ 1 +│/);
  assert.match(r.stdout, /│ refusals +│ pass +│ 4 +│ 3 +│/);
  assert.match(r.stdout, /2 passed, 0 failed/);
});

test('a single incident folder (DIR itself holds the capture) is one scenario', async () => {
  const dir = incidentDir(WITH_CONTEXT);
  const r = await runCli('test', path.join(dir, WITH_CONTEXT));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /1 passed, 0 failed \(1 scenario\)/);
});

test('changing any number in expect.json fails with a diff naming that field', async () => {
  const original = readExpect(path.join(REPO, 'captures'), SEVERAL_FINDINGS);
  const numbers: [group: 'handshakes' | 'states', key: string, label: RegExp][] = [
    ...Object.keys(original.handshakes).map((k): ['handshakes', string, RegExp] => ['handshakes', k, new RegExp(`handshakes\\.${k}: expected \\d+, got \\d+`)]),
    ...Object.keys(original.states).map((k): ['states', string, RegExp] => ['states', k, new RegExp(`flows in state ${k}: expected \\d+, got \\d+`)]),
  ];
  assert.ok(numbers.length >= 7, 'every handshake count and state count is tried');
  for (const [group, key, label] of numbers) {
    const dir = incidentDir(SEVERAL_FINDINGS);
    editExpect(dir, SEVERAL_FINDINGS, (e) => ((e[group] as Record<string, number>)[key]! += 1));
    const r = await runCli('test', dir);
    assert.equal(r.code, 1, `${group}.${key} changed`);
    assert.match(r.stdout, /FAIL refusals/);
    assert.match(r.stdout, label);
    assert.match(r.stdout, /0 passed, 1 failed/);
  }
});

test('a new state, a finding severity, an evidence list, a missing or extra finding: exit 1 with a diff naming it', async () => {
  const cases: [what: string, edit: (e: Expectation) => void, diff: RegExp][] = [
    ['new state', (e) => (e.states['RSTO'] = 1), /flows in state RSTO: expected 1, got 0/],
    ['severity', (e) => (e.findings[1]!.severity = 'error'), /finding rejected \(service 192\.0\.2\.1:8081\): severity: expected error, got warning/],
    ['evidence list', (e) => (e.findings[0]!.evidence!['clients'] = ['192.0.2.20', '192.0.2.99']), /finding filtered \(service 192\.0\.2\.1:8082\): evidence\.clients: expected \["192\.0\.2\.20","192\.0\.2\.99"\], got \["192\.0\.2\.20"\]/],
    ['evidence text', (e) => (e.findings[2]!.evidence!['refusedBy'] = '192.0.2.9'), /evidence\.refusedBy: expected "192\.0\.2\.9", got "192\.0\.2\.1"/],
    ['finding removed', (e) => e.findings.splice(0, 1), /unexpected finding: \{"code":"filtered"/],
    ['finding added', (e) => e.findings.push({ code: 'listen-overflow', severity: 'error' }), /missing finding: \{"code":"listen-overflow"/],
  ];
  for (const [what, edit, diff] of cases) {
    const dir = incidentDir(SEVERAL_FINDINGS);
    editExpect(dir, SEVERAL_FINDINGS, edit);
    const r = await runCli('test', dir);
    assert.equal(r.code, 1, what);
    assert.match(r.stdout, diff, what);
  }
});

test('the order of findings in expect.json does not matter', async () => {
  const dir = incidentDir(SEVERAL_FINDINGS, 'docker0-overlap');
  editExpect(dir, SEVERAL_FINDINGS, (e) => e.findings.reverse());
  const r = await runCli('test', dir);
  assert.equal(r.code, 0, r.stdout);
});

test('a scenario folder without expect.json fails, and so does one whose args are not analyze flags', async () => {
  const dir = incidentDir(WITH_CONTEXT, SEVERAL_FINDINGS);
  fs.rmSync(path.join(dir, SEVERAL_FINDINGS, 'expect.json'));
  editExpect(dir, WITH_CONTEXT, (e) => e.args!.push('--frobnicate'));
  const r = await runCli('test', dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAIL refusals[^\n]*\n {2}no expect\.json in /);
  assert.match(r.stdout, /FAIL route-conflict[^\n]*\n {2}analyze arguments .*unknown option '--frobnicate'/);
  assert.match(r.stdout, /0 passed, 2 failed/);
});

test('an expect.json that is not an expectation fails naming the file', async () => {
  const dir = incidentDir(SEVERAL_FINDINGS);
  fs.writeFileSync(path.join(dir, SEVERAL_FINDINGS, 'expect.json'), '{"handshakes": {}, "states": {}}');
  const r = await runCli('test', dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /expect\.json: "findings" must be a list/);
});

test('an empty folder is a failure: zero scenarios found', async () => {
  const dir = tempDir('synscope-regress-empty-');
  fs.mkdirSync(path.join(dir, 'notes'));
  for (const args of [['test', dir], ['test', dir, '--json']]) {
    const r = await runCli(...args);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no scenarios under /);
  }
});

test('--scenario runs only the scenarios whose name contains NAME; no match is exit 1 saying so', async () => {
  const dir = incidentDir(WITH_CONTEXT, SEVERAL_FINDINGS);
  editExpect(dir, SEVERAL_FINDINGS, (e) => (e.handshakes.attempted = 99));
  const only = await runCli('test', dir, '--scenario', 'route');
  assert.equal(only.code, 0, only.stdout);
  assert.match(only.stdout, /route-conflict/);
  assert.doesNotMatch(only.stdout, /refusals/);
  const other = await runCli('test', dir, '--scenario', 'fusal');
  assert.equal(other.code, 1);
  assert.match(other.stdout, /FAIL refusals/);
  const none = await runCli('test', dir, '--scenario', 'redis');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no scenario name contains "redis" \(2 scenarios under /);
});

test('--update rewrites a stale expect.json (keeping its args), prints what changed, and the next run passes', async () => {
  const dir = incidentDir(WITH_CONTEXT, SEVERAL_FINDINGS);
  const stored = readExpect(dir, WITH_CONTEXT);
  editExpect(dir, WITH_CONTEXT, (e) => {
    e.handshakes.completed = 7;
    e.findings[0]!.severity = 'info';
  });
  const before = fs.readFileSync(path.join(dir, SEVERAL_FINDINGS, 'expect.json'), 'utf8');
  const u = await runCli('test', dir, '--update');
  assert.equal(u.code, 0, u.stdout + u.stderr);
  assert.match(u.stdout, /updated route-conflict/);
  assert.match(u.stdout, /handshakes\.completed: expected 7, got 2/);
  assert.match(u.stdout, /severity: expected info, got error/);
  assert.match(u.stdout, /│ route-conflict +│ updated /);
  assert.match(u.stdout, /│ refusals +│ pass /);
  assert.deepEqual(readExpect(dir, WITH_CONTEXT), stored, 'the rewritten file is the stored one, args included');
  assert.equal(fs.readFileSync(path.join(dir, SEVERAL_FINDINGS, 'expect.json'), 'utf8'), before, 'a matching expect.json is left alone');
  const again = await runCli('test', dir);
  assert.equal(again.code, 0, again.stdout);
});

test('--update writes a missing expect.json, using context.json when the folder has one', async () => {
  const dir = incidentDir(WITH_CONTEXT);
  const stored = readExpect(dir, WITH_CONTEXT);
  fs.rmSync(path.join(dir, WITH_CONTEXT, 'expect.json'));
  const u = await runCli('test', dir, '--update');
  assert.equal(u.code, 0, u.stdout);
  assert.match(u.stdout, /updated route-conflict[^\n]*\n {2}new expect\.json/);
  assert.deepEqual(readExpect(dir, WITH_CONTEXT), stored);
});

test('--json prints the synscope.test/1 document', async () => {
  const dir = incidentDir(WITH_CONTEXT, SEVERAL_FINDINGS);
  editExpect(dir, SEVERAL_FINDINGS, (e) => (e.states['S0'] = 5));
  const r = await runCli('test', dir, '--json');
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout) as ScenarioRunJson;
  assert.equal(doc.schema, 'synscope.test/1');
  assert.equal(doc.passed, 1);
  assert.equal(doc.failed, 1);
  assert.deepEqual(
    doc.scenarios.map((s) => [s.name, s.passed, s.differences]),
    [
      ['refusals', false, ['flows in state S0: expected 5, got 2']],
      ['route-conflict', true, []],
    ],
  );
  for (const s of doc.scenarios) assert.equal(typeof s.seconds, 'number');
});

test('a missing DIR is one line naming it, exit 2, no stack', async () => {
  const r = await runCli('test', '/nonexistent/incidents');
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /\/nonexistent\/incidents: .*no such directory.*ERR_READ_FAILED/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
  assert.equal(r.stdout, '');
});

test('test --help shows the usage, the layout and examples', async () => {
  const r = await runCli('test', '--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: synscope test \[options\] \[dir\]/);
  assert.match(r.stdout, /--scenario <NAME>/);
  assert.match(r.stdout, /Examples:/);
  assert.match(r.stdout, /expect\.json/);
});
