/**
 * Every JSON report the stored scenarios, the corpus and a flood produce validates against
 * the published schema/report.schema.json (synscope.report/2), and the schema can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import { writeFloodCapture } from '../bench/flood-capture';
import { analyzeFiles } from '../src/analysis';
import { toReportJson } from '../src/report/json';
import { spawnSync } from 'node:child_process';
import { BIN, REPO, runBin } from './cli-harness';

const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(JSON.parse(fs.readFileSync(path.join(REPO, 'schema', 'report.schema.json'), 'utf8')) as object);

function check(report: unknown, label: string): void {
  assert.ok(validate(report), `${label}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
}

test('every stored scenario\'s report, as the CLI prints it with its own arguments, validates', () => {
  const dir = path.join(REPO, 'captures');
  let n = 0;
  for (const name of fs.readdirSync(dir).sort()) {
    const folder = path.join(dir, name);
    const expect = path.join(folder, 'expect.json');
    if (!fs.existsSync(expect)) continue;
    const args = (JSON.parse(fs.readFileSync(expect, 'utf8')) as { args?: string[] }).args ?? [];
    // As `synscope test` runs it: in the scenario's folder, its captures unless --host names them.
    const files = args.includes('--host') ? [] : fs.readdirSync(folder).filter((f) => /\.pcap(ng)?$/.test(f));
    const r = spawnSync(process.execPath, [BIN, 'analyze', ...files, ...args, '--json', '--all-flows'], { cwd: folder, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    check(JSON.parse(r.stdout), name);
    n++;
  }
  assert.ok(n >= 20, `${n} scenarios`);
});

test('reports of the corpus traces and of a SYN flood validate', () => {
  const corpus = path.join(REPO, 'test', 'fixtures', 'corpus');
  const files = fs.readdirSync(corpus, { recursive: true, encoding: 'utf8' }).filter((f) => /\.pcap(ng)?$/.test(f));
  assert.ok(files.length > 20);
  for (const f of files) {
    let report;
    try {
      report = toReportJson(analyzeFiles([path.join(corpus, f)]));
    } catch {
      continue; // a malformed corpus file is the readers' test
    }
    check(JSON.parse(JSON.stringify(report)), f);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-schema-'));
  try {
    writeFloodCapture({ syns: 20_000, out: path.join(dir, 'flood.pcap'), spoofed: true, answered: false, synsPerSecond: 20_000 / 2 });
    check(JSON.parse(JSON.stringify(toReportJson(analyzeFiles([path.join(dir, 'flood.pcap')])))), 'flood');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the schema rejects a report that drifted (a finding without its counts, an unknown code)', () => {
  const report = JSON.parse(runBin(['analyze', path.join(REPO, 'captures', 'refusals', 'capture.pcapng'), '--json']).stdout);
  check(report, 'refusals');
  const { flowCount, ...withoutCount } = report.findings[0];
  assert.ok(flowCount >= 1);
  assert.equal(validate({ ...report, findings: [withoutCount] }), false);
  assert.equal(validate({ ...report, findings: [{ ...report.findings[0], code: 'mystery' }] }), false);
  assert.equal(validate({ ...report, schema: 'synscope.report/1' }), false);
});
