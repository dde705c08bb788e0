/**
 * What reading a full connection-tracking table costs `synscope context` and a live window's
 * end: a network namespace of its own (ss-bench-conntrack) filled to nf_conntrack_max with
 * ASSURED ESTABLISHED entries by `conntrack -R`, then readConntrackTable run in it three
 * times, wall ms and the process's peak RSS each; the namespace is deleted at the end. Root, and the conntrack tool.
 * Run: npx tsc -p tsconfig.json && node dist/bench/conntrack-table.js
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const NS = 'ss-bench-conntrack';
const max = Number(fs.readFileSync('/proc/sys/net/netfilter/nf_conntrack_max', 'utf8'));
const lines: string[] = [];
for (let n = 0; n < max; n++) {
  lines.push(`-I -p tcp -s 172.17.0.2 -d 192.0.2.${30 + Math.floor(n / 60000)} --sport ${1024 + (n % 60000)} --dport 5432 --state ESTABLISHED -t 432000 -u SEEN_REPLY,ASSURED`);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-bench-conntrack-'));
const batch = path.join(dir, 'fill.txt');
fs.writeFileSync(batch, lines.join('\n') + '\n');
const inNs = (cmd: string, ...args: string[]) => execFileSync('ip', ['netns', 'exec', NS, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
execFileSync('ip', ['netns', 'add', NS]);
try {
  // Connection tracking runs in a namespace once a rule there uses it.
  inNs('iptables', '-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'ESTABLISHED', '-j', 'ACCEPT');
  try {
    inNs('conntrack', '-R', batch);
  } catch {
    // conntrack -R exits non-zero when the last entries do not fit; the count below says how many did.
  }
  const reader = path.join(__dirname, '..', 'src', 'evidence', 'conntrack-table.js');
  const kernel = path.join(__dirname, '..', 'src', 'evidence', 'kernel-counters.js');
  const script = `const {readConntrackTable}=require(${JSON.stringify(reader)});const {readIfPresent}=require(${JSON.stringify(kernel)});` +
    'const t0=process.hrtime.bigint();const t=readConntrackTable(readIfPresent);' +
    'console.log(`${(Number(process.hrtime.bigint()-t0)/1e6).toFixed(0)} ms, peak RSS ${(process.resourceUsage().maxRSS/1024).toFixed(0)} MB: ${t.count} of ${t.max} entries, largest holder ${t.holders?.[0]?.entries ?? "not read"}`)';
  for (let run = 0; run < 3; run++) process.stdout.write(inNs(process.execPath, '-e', script));
} finally {
  execFileSync('ip', ['netns', 'del', NS]);
  fs.rmSync(dir, { recursive: true, force: true });
}
