#!/usr/bin/env node
// Usage: node test/lab/record-scenario.js NAME [NAME...]   (root; after `npx tsc -p tsconfig.json`)
// Records captures/NAME from scratch: runs test/lab/record-NAME.sh into the folder (the
// capture, and context.json when the recorder writes one), writes expect.json from the
// analysis (keeping the analyze args the old expect.json had), and writes README.md from
// the recorder's header comment (what it is, its "Verdict:" paragraph) and the expectation.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { writeExpectation } = require('./write-expectation.js');

const REPO = path.join(__dirname, '..', '..');

for (const name of process.argv.slice(2)) record(name);

function record(name) {
  const recorder = path.join(__dirname, `record-${name}.sh`);
  const header = parseHeader(fs.readFileSync(recorder, 'utf8'));
  const dir = path.join(REPO, 'captures', name);
  fs.mkdirSync(dir, { recursive: true });
  // "Usage: record-x.sh OUT.pcapng [CONTEXT.json]", or "OUT-DIR" for a recorder that writes several hosts' files.
  const intoDir = header.usage.includes('OUT-DIR');
  const capture = intoDir ? null : path.join(dir, header.usage.includes('OUT.pcapng') ? 'capture.pcapng' : 'capture.pcap');
  const context = header.usage.includes('CONTEXT.json') ? path.join(dir, 'context.json') : null;
  for (const f of fs.readdirSync(dir)) if (/\.(pcap|pcapng)$/.test(f)) fs.rmSync(path.join(dir, f));
  execFileSync('bash', [recorder, ...(intoDir ? [dir] : [capture]), ...(context ? [context] : [])], { stdio: 'inherit', timeout: 120_000 });
  if (capture !== null) fs.rmSync(capture.replace(/\.pcapng$/, '') + '.context.json', { force: true });

  const expectFile = path.join(dir, 'expect.json');
  const args = fs.existsSync(expectFile)
    ? JSON.parse(fs.readFileSync(expectFile, 'utf8')).args ?? []
    : header.args.length > 0
      ? header.args
      : context
        ? ['--context', 'context.json']
        : [];
  const expectation = writeExpectation(dir, args);
  fs.writeFileSync(path.join(dir, 'README.md'), readme(name, header, expectation));
  console.log(`recorded captures/${name}: ${fs.readdirSync(dir).sort().join(', ')}`);
}

/** The recorder's leading comment: the text before "Usage:", the Usage line, its "Args:" line and the "Verdict:" paragraph. */
function parseHeader(script) {
  const lines = [];
  for (const line of script.split('\n').slice(1)) {
    if (!line.startsWith('#')) break;
    lines.push(line.replace(/^# ?/, ''));
  }
  const usageAt = lines.findIndex((l) => l.startsWith('Usage:'));
  const verdictAt = lines.findIndex((l) => l.startsWith('Verdict:'));
  const verdictEnd = verdictAt < 0 ? -1 : lines.findIndex((l, i) => i > verdictAt && l.trim() === '');
  return {
    what: upperFirst(lines.slice(0, usageAt).filter((l) => !l.startsWith('Args:')).join('\n').replace(/^Scenario [\w-]+ \(([^)]*)\): /, '$1: ').replace(/^Scenario [\w-]+: /, '')),
    usage: lines[usageAt] ?? '',
    args: (lines.find((l) => l.startsWith('Args:')) ?? 'Args:').slice('Args:'.length).trim().split(/\s+/).filter((a) => a !== ''),
    verdict: verdictAt < 0 ? '' : lines.slice(verdictAt, verdictEnd < 0 ? undefined : verdictEnd).join('\n').replace(/^Verdict: */, ''),
  };
}

function readme(name, header, expectation) {
  const h = expectation.handshakes;
  const args = expectation.args && expectation.args.length > 0 ? `analyzed with \`${expectation.args.join(' ')}\`` : 'analyzed without arguments';
  const findings =
    expectation.findings.length === 0
      ? 'no findings.'
      : 'findings:\n\n' + expectation.findings.map((f) => `- \`${f.code}\` (${f.severity})${evidenceText(f.evidence)}`).join('\n');
  return [
    `# ${name}`,
    '',
    `**What:** ${header.what}`,
    '',
    `**How it was made:** real kernel networking in network namespaces, recorded by`,
    `\`node test/lab/record-scenario.js ${name}\` (which runs \`test/lab/record-${name}.sh\`) on`,
    `${new Date().toISOString().slice(0, 10)}, Linux ${os.release()}. CI records it again from scratch`,
    '(`test/lab-record.test.ts`) and checks the new capture against the same expect.json.',
    '',
    `**Expected verdict** (\`expect.json\`, ${args}): ${h.attempted} attempts, ${h.completed} completed,`,
    `${h.unanswered} unanswered, ${h.rejected} rejected, ${h.synAckLost} syn-ack lost; ${findings}`,
    ...(header.verdict ? ['', upperFirst(header.verdict)] : []),
    '',
  ].join('\n');
}

function evidenceText(evidence) {
  const parts = Object.entries(evidence ?? {}).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  return parts.length > 0 ? `: ${parts.join('; ')}` : '';
}

function upperFirst(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
