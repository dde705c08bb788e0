import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, runBin, STACK_LINE } from './cli-harness';

/** The third-party corpus (copied from shared/corpus): every file is analyzed or refused cleanly. */
const CORPUS = path.join(REPO, 'test', 'fixtures', 'corpus');

function captures(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return captures(p);
    return /\.(pcap|pcapng)$/.test(d.name) ? [p] : [];
  });
}

test('every corpus capture: exit 0 with a report, or exit 2 with one line; never a stack trace', () => {
  const files = captures(CORPUS).sort();
  assert.ok(files.length >= 86, `found ${files.length} corpus files (shared/corpus has 86 captures)`);
  const refused: string[] = [];
  for (const file of files) {
    const r = runBin(['analyze', '--json', file]);
    const name = path.relative(CORPUS, file);
    assert.ok(r.code === 0 || r.code === 2, `${name}: exit ${r.code}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, STACK_LINE, `${name}: stack trace`);
    if (r.code === 0) {
      const report = JSON.parse(r.stdout);
      assert.equal(report.schema, 'synscope.report/2', name);
      const h = report.summary.handshakes;
      assert.equal(h.attempted, h.completed + h.rejected + h.synAckLost + h.unanswered, `${name}: buckets add up`);
    } else {
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${name}: one line, got ${r.stderr}`);
      assert.match(lines[0]!, /^synscope: .+: byte \d+: .+ \[ERR_[A-Z_]+\]$/, name);
      refused.push(`${name}: ${lines[0]}`);
    }
  }
  console.log(`corpus: ${files.length} files, ${files.length - refused.length} analyzed, ${refused.length} refused`);
  for (const r of refused) console.log(`  refused ${r}`);
});
