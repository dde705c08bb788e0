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
  // A real-Docker recorder of one host keeps the report its live run printed here (DOCKER_LIVE_JSON), to be checked against analyze.
  const liveJson = header.realDocker && !intoDir ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-record-')), 'live.json') : null;
  execFileSync('bash', [recorder, ...(intoDir ? [dir] : [capture]), ...(context ? [context] : [])], {
    stdio: 'inherit',
    timeout: header.realDocker ? 180_000 : 120_000,
    env: { ...process.env, ...(liveJson && { DOCKER_LIVE_JSON: liveJson }) },
  });
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
  if (liveJson !== null) checkLiveAgrees(liveJson, dir, args);
  fs.writeFileSync(path.join(dir, 'README.md'), readme(name, header, expectation));
  console.log(`recorded captures/${name}: ${fs.readdirSync(dir).sort().join(', ')}`);
}

/** The report `synscope live` printed while recording must give what analyze of the written files gives. */
function checkLiveAgrees(liveJson, dir, args) {
  const { resolveScenarioArgs } = require('../../dist/src/regress/expectation.js');
  const captures = fs.readdirSync(dir).filter((f) => /\.(pcap|pcapng)$/.test(f)).map((f) => path.join(dir, f));
  const bin = path.join(REPO, 'bin', 'synscope.js');
  const analyzed = JSON.parse(execFileSync(process.execPath, [bin, 'analyze', ...captures, '--json', ...resolveScenarioArgs(args, dir, fs.existsSync)], { encoding: 'utf8' }));
  const live = JSON.parse(fs.readFileSync(liveJson, 'utf8'));
  const verdict = (r) => JSON.stringify({ handshakes: r.summary.handshakes, findings: r.findings.map((f) => [f.code, f.severity, f.evidence.clients ?? null, f.remedy]) });
  if (verdict(live) !== verdict(analyzed)) throw new Error(`the live report and analyze of ${dir} disagree:\nlive:    ${verdict(live)}\nanalyze: ${verdict(analyzed)}`);
  fs.rmSync(path.dirname(liveJson), { recursive: true, force: true });
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
    what: upperFirst(lines.slice(0, usageAt).filter((l) => !l.startsWith('Args:') && !l.startsWith('Real Docker:')).join('\n').replace(/^Scenario [\w-]+ \(([^)]*)\): /, '$1: ').replace(/^Scenario [\w-]+: /, '')),
    usage: lines[usageAt] ?? '',
    // "Real Docker: what is Docker's own, and what (if anything) is stood in for": recorded against a real engine.
    realDocker: (lines.find((l) => l.startsWith('Real Docker:')) ?? '').slice('Real Docker:'.length).trim() || null,
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
    ...(header.realDocker
      ? [`**How it was made:** recorded against a real Docker engine (docker.io ${dockerVersion()}, contained in lab namespaces`, `by test/lab/docker-lab.sh): ${header.realDocker} Recorded by`]
      : [`**How it was made:** real kernel networking in network namespaces, recorded by`]),
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

/** The dockerd version the lab ran, "20.10.24+dfsg1". */
function dockerVersion() {
  const v = /version ([^\s,]+)/.exec(execFileSync('dockerd', ['--version'], { encoding: 'utf8' }));
  return v === null ? 'unknown' : v[1];
}

function evidenceText(evidence) {
  const text = (v) => (Array.isArray(v) ? v.join(', ') : v !== null && typeof v === 'object' ? `(${Object.entries(v).map(([k, w]) => `${k} ${Array.isArray(w) ? w.join('; ') : String(w)}`).join(', ')})` : String(v));
  const parts = Object.entries(evidence ?? {}).map(([k, v]) => `${k} ${text(v)}`);
  return parts.length > 0 ? `: ${parts.join('; ')}` : '';
}

function upperFirst(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
