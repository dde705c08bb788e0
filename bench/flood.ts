/**
 * The SYN-flood benchmark: `synscope analyze --json` on captures of N first SYNs from
 * distinct clients to one service, printing peak RSS, wall time and report size, and
 * checking the counts are exact. Captures are written by bench/flood-capture.ts into
 * bench/out/ when missing.
 *
 *   node dist/bench/flood.js                       # 0.1M, 1M, 3M unanswered; 1M spoofed; 1M half answered
 *   node dist/bench/flood.js --syns 100000,1000000 --check    # exit 1 when over MAX_RSS_MB or a count is off
 *
 * Needs GNU time (`/usr/bin/time`, Debian package `time`) for the peak RSS.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { writeFloodCapture, type FloodSpec } from './flood-capture';

const GNU_TIME = '/usr/bin/time';
const SYNSCOPE = path.join(__dirname, '..', '..', 'bin', 'synscope.js');
const OUT = path.join(__dirname, '..', '..', 'bench', 'out');
/** The issue's bound for synscope's own memory, whatever the flood. */
const MAX_RSS_MB = 300;
const MAX_REPORT_MB = 50;

interface Case extends FloodSpec {
  label: string;
}

function cases(syns: number[]): Case[] {
  const out: Case[] = syns.map((n) => ({ label: `${n} unanswered`, syns: n, out: path.join(OUT, `flood-${n}.pcap`), spoofed: false, answered: false }));
  const million = 1_000_000;
  if (syns.includes(million)) {
    out.push({ label: `${million} spoofed, unanswered`, syns: million, out: path.join(OUT, `flood-spoofed-${million}.pcap`), spoofed: true, answered: false });
    out.push({ label: `${million} half answered`, syns: million, out: path.join(OUT, `flood-answered-${million}.pcap`), spoofed: false, answered: true });
  }
  return out;
}

function run(c: Case): { row: string; ok: boolean } {
  if (!fs.existsSync(c.out)) writeFloodCapture(c);
  const report = path.join(OUT, `report-${path.basename(c.out, '.pcap')}.json`);
  const started = process.hrtime.bigint();
  const child = spawnSync(GNU_TIME, ['-f', '%M', process.execPath, SYNSCOPE, 'analyze', c.out, '--json'], { stdio: ['ignore', fs.openSync(report, 'w'), 'pipe'], encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rssMb = Number(child.stderr.trim().split('\n').pop()) / 1024;
  const reportMb = fs.statSync(report).size / 1e6;
  const json = JSON.parse(fs.readFileSync(report, 'utf8')) as { summary: { handshakes: Record<string, number> } };
  const h = json.summary.handshakes;
  const unanswered = c.answered ? c.syns / 2 : c.syns;
  const exact = h['attempted'] === c.syns && h['unanswered'] === unanswered;
  const ok = exact && rssMb <= MAX_RSS_MB && reportMb <= MAX_REPORT_MB;
  const file = fs.statSync(c.out).size / 1e6;
  return { row: `| ${c.label} | ${file.toFixed(0)} MB | ${rssMb.toFixed(0)} MB | ${seconds.toFixed(1)} s | ${reportMb.toFixed(1)} MB | ${exact ? 'exact' : `off: ${JSON.stringify(h)}`} |`, ok };
}

function main(): number {
  const { values } = parseArgs({ options: { syns: { type: 'string', default: '100000,1000000,3000000' }, check: { type: 'boolean', default: false } } });
  if (!fs.existsSync(GNU_TIME)) {
    console.error(`bench/flood: ${GNU_TIME} is missing (apt-get install time): it measures the peak RSS`);
    return 1;
  }
  fs.mkdirSync(OUT, { recursive: true });
  const lines = ['| capture (SYNs) | file | peak RSS | wall | report | counts |', '|---|---|---|---|---|---|'];
  let ok = true;
  for (const c of cases(values.syns!.split(',').map(Number))) {
    const r = run(c);
    lines.push(r.row);
    console.log(r.row);
    ok &&= r.ok;
  }
  fs.writeFileSync(path.join(OUT, 'flood.md'), `${lines.join('\n')}\n`);
  console.log(`\nbounds: peak RSS <= ${MAX_RSS_MB} MB, report <= ${MAX_REPORT_MB} MB, counts exact: ${ok ? 'met' : 'MISSED'}`);
  return values.check === true && !ok ? 1 : 0;
}

if (require.main === module) process.exitCode = main();
