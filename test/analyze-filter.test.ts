/**
 * `analyze -f EXPR` keeps the packets `tcpdump -r FILE EXPR` keeps, on every capture in the
 * repository that tcpdump reads, and says what evidence a filter removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { loadHostContext } from '../src/context/load';
import { SynscopeError } from '../src/errors';
import { REPO, runBin, STACK_LINE } from './cli-harness';

const EXPRESSIONS = ['tcp port 8080', 'icmp or icmp6', 'arp', 'tcp[tcpflags] & tcp-syn != 0', 'vlan or ip6', 'not tcp'];

function captures(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .map((f) => path.join(dir, f))
    .sort();
}

/** tcpdump's own count of the packets EXPR keeps, or null when tcpdump cannot read the file. */
function tcpdumpCount(file: string, expression: string): number | null {
  const r = spawnSync('tcpdump', ['--count', '-r', file, expression], { encoding: 'utf8', timeout: 60_000 });
  const m = /^(\d+) packets?$/m.exec(r.stdout);
  return r.status === 0 && m !== null ? Number(m[1]) : null;
}

function keptBySynscope(file: string, expression: string): number | null {
  try {
    return analyzeFiles([file], { filter: expression }).summary.filter!.kept;
  } catch (e) {
    // A link type libpcap cannot filter on (tcpdump refuses the file alike) is a one-line error.
    if (e instanceof SynscopeError) return null;
    throw e;
  }
}

test('-f keeps exactly the packets tcpdump -r keeps, on every capture in the repository tcpdump reads', () => {
  const files = [...captures(path.join(REPO, 'captures')), ...captures(path.join(REPO, 'test', 'fixtures'))];
  assert.ok(files.length > 100, `${files.length} captures`);
  let compared = 0;
  const differences: string[] = [];
  for (const file of files) {
    for (const expression of EXPRESSIONS) {
      const expected = tcpdumpCount(file, expression);
      if (expected === null) continue;
      const kept = keptBySynscope(file, expression);
      compared++;
      if (kept !== expected) differences.push(`${path.relative(REPO, file)} '${expression}': tcpdump ${expected}, synscope ${kept}`);
    }
  }
  assert.deepEqual(differences, []);
  assert.ok(compared > 300, `only ${compared} file/expression pairs compared`);
});

test('a filter that removes ICMP errors and ARP says so and how to keep them; with them kept, the verdicts come back', () => {
  const file = path.join(REPO, 'captures', 'refusals', 'capture.pcapng');
  const narrow = analyzeFiles([file], { filter: 'tcp port 8080' });
  const warning = narrow.warnings.find((w) => w.startsWith("the filter 'tcp port 8080' removed"));
  assert.ok(warning !== undefined, narrow.warnings.join('\n'));
  assert.match(warning, /ICMP errors about TCP/);
  assert.match(warning, /-f '\(tcp port 8080\) or icmp or icmp6 or arp'/);
  const wide = analyzeFiles([file], { filter: '(tcp port 8080) or icmp or icmp6 or arp' });
  assert.ok(!wide.warnings.some((w) => w.startsWith('the filter')));
  assert.deepEqual(wide.summary.filter, { expression: '(tcp port 8080) or icmp or icmp6 or arp', read: 22, kept: wide.summary.packets });
});

test('a filter libpcap cannot parse is one line, exit 2, before any file is read', () => {
  const r = runBin(['analyze', path.join(REPO, 'captures', 'refusals', 'capture.pcapng'), '-f', 'tcp prot 80']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /-f 'tcp prot 80'.*syntax error.*\[ERR_BAD_USAGE\]/);
  assert.doesNotMatch(r.stderr, STACK_LINE);
});

test('with a narrow -f an empty interface is no evidence: behind the nft forward drop, a path break only while every TCP packet is kept', () => {
  const dir = path.join(REPO, 'captures', 'docker-real-nftables-forward-drop');
  const context = loadHostContext(path.join(dir, 'context.json'));
  // The published port's client; the container's outbound attempt (port 80) is its own story.
  const errors = (filter?: string) =>
    analyzeFiles([path.join(dir, 'capture.pcapng')], { context, ...(filter !== undefined && { filter }) })
      .findings.filter((f) => f.severity === 'error' && f.evidence['service'] === '192.0.2.1:8080')
      .map((f) => f.code);
  assert.deepEqual(errors(), ['nat-path-break'], 'docker0 empty under live\'s default filter: the SYNs never got there');
  assert.deepEqual(errors('tcp or arp'), ['nat-path-break'], 'a filter keeping every TCP packet keeps that evidence');
  assert.deepEqual(errors('tcp port 8080 or tcp port 8000'), ['filtered'], 'port 80 on docker0 would not have been kept: its silence proves nothing');
});
