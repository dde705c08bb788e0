/**
 * `--format markdown`: the ticket summary of stored scenarios. Its tables must be well-formed
 * (every row as many cell pipes as the header), the ladders fenced, and the text of the
 * findings must survive the escaping (read back as a renderer would).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFloodCapture } from '../bench/flood-capture';
import { analyzeFiles, type Analysis } from '../src/analysis';
import { analyzeOptionsFromFlags, parseAnalyzeArgs } from '../src/cli/analyze-options';
import type { Finding } from '../src/diagnose/finding';
import { analyzeCaptures } from '../src/hosts/analyze-captures';
import { readExpectation } from '../src/regress/expect-file';
import { resolveScenarioArgs } from '../src/regress/expectation';
import { findScenarios } from '../src/regress/find-scenarios';
import { renderAttemptLadders } from '../src/report/ladder';
import { inline, renderMarkdown } from '../src/report/markdown';
import { REPO, runBin } from './cli-harness';

/** A stored scenario analyzed with its expect.json args, as `synscope test` runs it. */
function scenarioAnalysis(name: string): Analysis {
  const [scenario] = findScenarios(path.join(REPO, 'captures', name));
  const read = readExpectation(scenario!.expectFile!);
  assert.ok(read.ok, name);
  const args = resolveScenarioArgs(read.expectation.args ?? [], scenario!.dir, fs.existsSync);
  return analyzeCaptures(scenario!.captures, analyzeOptionsFromFlags(parseAnalyzeArgs(args)));
}

/** The text a Markdown renderer shows for backslash-escaped punctuation. */
function unescape(markdown: string): string {
  return markdown.replace(/\\([!-/:-@[-`{-~])/g, '$1');
}

/** Pipes that separate cells (not `\|`). */
function cellPipes(line: string): number {
  return (line.match(/(?<!\\)\|/g) ?? []).length;
}

/** Every table: consecutive lines starting with `|`. */
function tables(markdown: string): string[][] {
  const found: string[][] = [];
  let current: string[] = [];
  for (const line of [...markdown.split('\n'), '']) {
    if (line.startsWith('|')) current.push(line);
    else if (current.length > 0) {
      found.push(current);
      current = [];
    }
  }
  return found;
}

function assertTablesWellFormed(markdown: string): number {
  const all = tables(markdown);
  for (const t of all) {
    assert.ok(t.length >= 3, `a table has a header, a delimiter row and rows: ${t.join('\n')}`);
    assert.match(t[1]!, /^\|( :?-{3,}:? \|)+$/, 'the delimiter row');
    for (const row of t) assert.equal(cellPipes(row), cellPipes(t[0]!), `as many cells as the header: ${row}`);
  }
  return all.length;
}

/** The lines inside fenced code blocks, block by block. */
function fencedBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    if (fence === null) {
      const open = /^(`{3,})$/.exec(line);
      if (open !== null) {
        fence = open[1]!;
        blocks.push([]);
      }
    } else if (line === fence) fence = null;
    else blocks.at(-1)!.push(line);
  }
  assert.equal(fence, null, 'every fence is closed');
  return blocks;
}

for (const name of ['docker-real-docker0-overlap', 'docker-real-swarm-ingress', 'refusals']) {
  test(`markdown of ${name}: findings with evidence and remedy, handshake table, failed flows, tables well-formed`, () => {
    const a = scenarioAnalysis(name);
    assert.ok(a.findings.length > 0);
    const md = renderMarkdown(a);
    const shown = unescape(md);
    assert.match(md, /^# synscope: /);
    for (const f of a.findings) {
      assert.ok(shown.includes(f.title), `title: ${f.title}`);
      assert.ok(shown.includes(f.explanation), `explanation of ${f.code}`);
      for (const [i, r] of f.remedy.entries()) assert.ok(shown.includes(r.trim()), `remedy step ${i + 1} of ${f.code}`);
      assert.ok(md.includes(`\`${f.code}\``));
    }
    const h = a.summary.handshakes;
    assert.ok(md.includes(`| ${[h.attempted, h.completed, h.unanswered, h.rejected, h.synAckLost].join(' | ')} |`), 'the handshake counts as a table row');
    const failed = a.flows.filter((f) => f.outcome !== null && f.outcome !== 'completed');
    assert.equal(tables(md).at(-1)!.length, 2 + failed.length, 'one failed-flows row per failed flow');
    assert.equal(assertTablesWellFormed(md), 2);
  });
}

test('markdown: each failed NAT path is a ladder in a fenced code block', () => {
  const a = scenarioAnalysis('docker-real-docker0-overlap');
  const ladder = renderAttemptLadders(a.attempts, a.flows).slice(2);
  assert.ok(ladder.length > 3, 'the scenario has a stitched failed attempt');
  const blocks = fencedBlocks(renderMarkdown(a));
  assert.deepEqual(blocks, [ladder]);
  assert.match(ladder[0]!, /^attempt f\d+: /);
});

test('markdown: a cause of several findings lists its services and clients; | in a remedy is escaped', () => {
  const a = scenarioAnalysis('refusals');
  const filtered = a.findings.find((f) => f.code === 'filtered')!;
  // The same finding for 12 services of other hosts: one cause, one section.
  const alike: Finding[] = Array.from({ length: 12 }, (_, i) => {
    const service = `192.0.2.${i + 1}:8082`;
    const swap = (s: string) => s.replaceAll('192.0.2.1:8082', service);
    return { ...filtered, title: swap(filtered.title), explanation: swap(filtered.explanation), evidence: { ...filtered.evidence, service }, clients: [`198.51.100.${i + 1}`], clientCount: 1 };
  });
  const md = renderMarkdown({ ...a, findings: [...alike, ...a.findings.filter((f) => f.code !== 'filtered')] });
  const section = md.slice(md.indexOf('### ERROR filtered'), md.indexOf('### WARNING'));
  assert.match(section, /^### ERROR filtered x12: 12 attempts from 12 clients, one cause in 12 places$/m);
  assert.match(section, /^- \*\*services\*\*: 192\.0\.2\.1:8082, 192\.0\.2\.2:8082, .*, \.\.\. \(12 in all\)$/m);
  assert.match(section, /^- \*\*clients\*\* \(12\): 198\.51\.100\.1, .*\(12 in all\)$/m);
  assert.match(section, /^\*\*Evidence\*\* \(for 192\.0\.2\.1:8082; --json has each\):$/m);
  assert.match(section, /^1\. Look for a DROP rule/m);
  assert.ok(md.includes('iptables-save \\| grep'), 'a pipe in a remedy is escaped');
  assertTablesWellFormed(md);
});

test('markdown: text from the capture cannot start a heading, a list, HTML or break a table', () => {
  assert.equal(inline('# not a heading'), '\\# not a heading');
  assert.equal(inline('1. not a list'), '1\\. not a list');
  assert.equal(inline('- not a list'), '\\- not a list');
  assert.equal(inline('a | b'), 'a \\| b');
  assert.equal(inline('<container-pid> *x* [y](z) `c`'), '\\<container-pid\\> \\*x\\* \\[y\\](z) \\`c\\`');
  assert.equal(inline('two\nlines'), 'two lines');
  assert.equal(inline('rp_filter _x_ 172.17.0.1'), 'rp_filter \\_x\\_ 172.17.0.1', 'only an underscore that could start emphasis');
  const a = analyzeFiles([path.join(REPO, 'captures', 'refusals', 'capture.pcapng')]);
  const md = renderMarkdown({ ...a, warnings: ['# | <b>cut</b> | *file*'] });
  assert.ok(md.includes('## Warnings\n\n- \\# \\| \\<b\\>cut\\</b\\> \\| \\*file\\*\n'));
});

test('markdown lists the first 10 failed flows and says how many were left out; --format markdown on the CLI', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-markdown-'));
  try {
    const file = path.join(dir, 'flood.pcap');
    writeFloodCapture({ syns: 30, out: file, spoofed: false, answered: false, synsPerSecond: 30 / 2 });
    const r = runBin(['analyze', file, '--format', 'markdown']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^## Failed flows \(first 10 of 30; 20 left out, --json lists all\)$/m);
    const flowTable = tables(r.stdout).at(-1)!;
    assert.equal(flowTable[0], '| client | server | outcome | state/history | SYNs | SYN-ACKs | first seen (UTC) |');
    assert.equal(flowTable.length, 2 + 10);
    assertTablesWellFormed(r.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
