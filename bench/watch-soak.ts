/**
 * The watch soak: `synscope watch` on a throw-away namespace for N minutes of bounded
 * synthetic connection load, its RSS sampled every 10 s, to show its memory stays flat.
 *
 *   node dist/bench/watch-soak.js [--minutes 30] [--rate 200] [--toggle-minutes 3] [--tolerance 20] [--watch-args=--no-trace]
 *
 * The lab is two namespaces, `sssoak<pid>-cl` and `sssoak<pid>-sv`, joined by a veth pair
 * created inside them (the host's namespace is never touched). The server namespace listens
 * on SERVED and DROPPED; nothing listens on REFUSED; an iptables DROP of DROPPED inside the
 * server namespace is added and removed every --toggle-minutes, so a `filtered` finding
 * opens and resolves over and over. The client sends --rate connections per second from
 * CLIENT_ADDRESSES (most to SERVED, some refused, some dropped) for the run's length and
 * no longer. watch runs as `synscope watch --netns <sv>:veth-sv --window 10s --metrics
 * 127.0.0.1:<port>`. Both namespaces go at the end, on error and on SIGINT/SIGTERM, and
 * namespaces left by a run killed outright are removed at the start of the next.
 * Prints a Markdown table per minute and a verdict: RSS at the end within --tolerance %
 * of the RSS after the first 5 minutes (half the run when shorter). Exit 1 when missed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs as parseCommandLine } from 'node:util';
import { cleanUpOnExit, killGroup, removeNamespaces, removeStaleNamespaces, sleep, waitFor } from './lab-namespaces';
import { freePort } from '../test/free-port';
import { scrapeMetrics } from '../test/metrics-scrape';

const ROOT = path.join(__dirname, '..', '..');
const SYNSCOPE = path.join(ROOT, 'bin', 'synscope.js');
const OUT_DIR = path.join(ROOT, 'bench', 'out');

const CLIENT_DEV = 'veth-cl';
const SERVER_DEV = 'veth-sv';
const SERVER = '10.97.0.2';
/** Ten client addresses, so findings carry a few clients and the client bound is exercised a little. */
const CLIENT_ADDRESSES = Array.from({ length: 10 }, (_, i) => `10.97.0.${11 + i}`);
const SERVED = 8080;
const DROPPED = 8081;
const REFUSED = 8082;
const WINDOW = '10s';
const SAMPLE_MS = 10_000;
/** The baseline is the RSS after this many minutes (or half the run, when shorter): start-up and the first windows' growth are over by then. */
const BASELINE_MINUTES = 5;

interface Options {
  minutes: number;
  rate: number;
  toggleMinutes: number;
  tolerance: number;
  /** More arguments for synscope watch, to compare settings (--no-trace, --backend cap). */
  watchArgs: string[];
}

const log = (s: string): void => { process.stderr.write(`watch-soak: ${s}\n`); };

function parseArgs(argv: readonly string[]): Options {
  const { values } = parseCommandLine({
    args: [...argv],
    options: {
      minutes: { type: 'string', default: '30' },
      rate: { type: 'string', default: '200' },
      'toggle-minutes': { type: 'string', default: '3' },
      tolerance: { type: 'string', default: '20' },
      'watch-args': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write('usage: node dist/bench/watch-soak.js [--minutes 30] [--rate 200] [--toggle-minutes 3] [--tolerance 20] [--watch-args=--no-trace]\n');
    process.exit(0);
  }
  const o: Options = {
    minutes: Number(values.minutes),
    rate: Number(values.rate),
    toggleMinutes: Number(values['toggle-minutes']),
    tolerance: Number(values.tolerance),
    watchArgs: values['watch-args']!.split(' ').filter((a) => a !== ''),
  };
  if (!Number.isFinite(o.minutes) || o.minutes < 1 || o.minutes > 24 * 60) throw new Error('--minutes must be from 1 to 1440');
  if (!Number.isInteger(o.rate) || o.rate < 1 || o.rate > 2000) throw new Error('--rate must be a whole number of connections per second from 1 to 2000');
  if (!Number.isFinite(o.toggleMinutes) || o.toggleMinutes <= 0) throw new Error('--toggle-minutes must be positive');
  if (!Number.isFinite(o.tolerance) || o.tolerance <= 0) throw new Error('--tolerance must be a positive percentage');
  return o;
}

// ---------------------------------------------------------------- the lab

/** Runs a command to completion; throws with its stderr when it fails. */
function must(argv: readonly string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) throw new Error(`\`${argv.join(' ')}\` failed: ${r.error?.message ?? (r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

interface Lab {
  readonly client: string;
  readonly server: string;
}

function createLab(prefix: string): Lab {
  const lab = { client: `${prefix}-cl`, server: `${prefix}-sv` };
  must(['ip', 'netns', 'add', lab.client]);
  must(['ip', 'netns', 'add', lab.server]);
  must(['ip', '-n', lab.client, 'link', 'add', CLIENT_DEV, 'type', 'veth', 'peer', 'name', SERVER_DEV, 'netns', lab.server]);
  for (const a of CLIENT_ADDRESSES) must(['ip', '-n', lab.client, 'addr', 'add', `${a}/24`, 'dev', CLIENT_DEV]);
  must(['ip', '-n', lab.server, 'addr', 'add', `${SERVER}/24`, 'dev', SERVER_DEV]);
  for (const [ns, dev] of [[lab.client, CLIENT_DEV], [lab.server, SERVER_DEV]] as const) {
    must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  return lab;
}

function destroyLab(prefix: string): void {
  removeNamespaces([`${prefix}-cl`, `${prefix}-sv`]);
}

/** Labs left by an earlier run that was killed outright (its pid is gone). */
function removeStaleLabs(): void {
  removeStaleNamespaces(/^sssoak(\d+)-(?:cl|sv)$/, log);
}

const DROP_RULE = ['INPUT', '-p', 'tcp', '--dport', String(DROPPED), '-j', 'DROP'];
const setDrop = (lab: Lab, on: boolean): void => void must(['ip', 'netns', 'exec', lab.server, 'iptables', on ? '-A' : '-D', ...DROP_RULE]);

// ---------------------------------------------------------------- the load

/** Accepts on SERVED and DROPPED, reads whatever comes and closes when the client does. */
const SERVER_PROGRAM = `for (const port of [${SERVED}, ${DROPPED}]) require('net').createServer((s) => { s.resume(); s.on('error', () => {}); s.on('end', () => s.end()); }).listen(port, '${SERVER}');`;

/**
 * RATE connections a second for SECONDS, then exit: 80 % to SERVED (a request line, then
 * end), 10 % to REFUSED, 10 % to DROPPED (given up after 500 ms). Prints its counts as
 * one JSON line every 10 s and at the end.
 */
function clientProgram(rate: number, seconds: number): string {
  return `const net = require('net');
const addresses = ${JSON.stringify(CLIENT_ADDRESSES)};
const counts = { started: 0, connected: 0, failed: 0 };
const perTick = ${rate} / 20;
let owed = 0, n = 0;
const until = Date.now() + ${seconds} * 1000;
const report = () => console.log(JSON.stringify(counts));
const reporter = setInterval(report, 10000);
const timer = setInterval(() => {
  if (Date.now() >= until) { clearInterval(timer); clearInterval(reporter); setTimeout(() => { report(); process.exit(0); }, 1000); return; }
  owed += perTick;
  for (; owed >= 1; owed--) {
    const k = n++ % 10;
    const port = k === 0 ? ${REFUSED} : k === 1 ? ${DROPPED} : ${SERVED};
    counts.started++;
    const s = net.connect({ host: '${SERVER}', port, localAddress: addresses[n % addresses.length] }, () => { counts.connected++; s.end('GET / HTTP/1.0\\r\\n\\r\\n'); });
    s.setTimeout(500, () => s.destroy());
    s.on('error', () => { counts.failed++; });
  }
}, 50);
process.on('SIGTERM', () => { report(); process.exit(0); });`;
}

// ---------------------------------------------------------------- children

const running = new Set<ChildProcess>();

/** Starts a child in its own process group, killed (group and all) after `timeoutMs`. */
function start(argv: readonly string[], timeoutMs: number): ChildProcess {
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const timer = setTimeout(() => {
    log(`timeout after ${timeoutMs / 1000} s: ${argv.join(' ')}`);
    killGroup(proc, 'SIGKILL');
  }, timeoutMs);
  running.add(proc);
  proc.on('close', () => {
    clearTimeout(timer);
    running.delete(proc);
  });
  return proc;
}

// ---------------------------------------------------------------- what is sampled

interface Sample {
  /** Seconds since watch began capturing. */
  at: number;
  rssKb: number;
  /** User + system CPU seconds of the watch process so far. */
  cpuSeconds: number;
  windows: number;
  completed: number;
  events: number;
  openFindings: number;
}

const CLOCK_TICKS = 100;

/** VmRSS (KiB) and user+system CPU seconds of `pid`, from /proc. */
function processUsage(pid: number): { rssKb: number; cpuSeconds: number } {
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssKb: Number(rss), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS };
}

const sumOf = (m: Map<string, number>, prefix: string): number => [...m].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

// ---------------------------------------------------------------- the report

const mb = (kb: number): string => (kb / 1024).toFixed(1);

interface Verdict {
  baseline: Sample;
  end: Sample;
  growthPercent: number;
  flat: boolean;
}

function verdictOf(samples: readonly Sample[], o: Options): Verdict {
  const baselineAt = Math.min(BASELINE_MINUTES, o.minutes / 2) * 60;
  const baseline = samples.find((s) => s.at >= baselineAt) ?? samples[0]!;
  const end = samples[samples.length - 1]!;
  const growthPercent = (100 * (end.rssKb - baseline.rssKb)) / baseline.rssKb;
  return { baseline, end, growthPercent, flat: growthPercent <= o.tolerance };
}

function render(o: Options, command: string, samples: readonly Sample[], events: Map<string, number>, client: string, v: Verdict): string {
  const perMinute = new Map<number, Sample>();
  // A sample taken a moment after a minute's end (60.02 s) belongs to that minute.
  for (const s of samples) perMinute.set(Math.max(1, Math.ceil(Math.round(s.at) / 60)), s);
  const peakKb = Math.max(...samples.map((s) => s.rssKb));
  const L = [
    '## Watch soak', '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\` ` +
      `(${os.availableParallelism()} CPUs, ${os.cpus()[0]?.model?.trim() ?? 'unknown CPU'}, Linux ${os.release()}, node ${process.version}; ` +
      `load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the end).`, '',
    `- Load: ${o.rate} connections/s from ${CLIENT_ADDRESSES.length} client addresses, 80 % to a listener, 10 % refused, 10 % to a port ` +
      `whose iptables DROP is toggled every ${o.toggleMinutes} min; client counts at the end: ${client}.`,
    `- Events: ${[...events].map(([t, n]) => `${t} ${n}`).join(', ') || 'none'}.`,
    `- RSS sampled from /proc/PID/status every ${SAMPLE_MS / 1000} s; the row is the last sample of the minute; CPU is user+system seconds so far.`, '',
    '| minute | RSS (MB) | CPU (s) | windows | handshakes completed | events | open findings |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...[...perMinute].map(([minute, s]) => `| ${minute} | ${mb(s.rssKb)} | ${s.cpuSeconds.toFixed(0)} | ${s.windows} | ${s.completed.toLocaleString('en-US')} | ${s.events} | ${s.openFindings} |`),
    '',
    `Verdict: RSS ${mb(v.end.rssKb)} MB at the end against ${mb(v.baseline.rssKb)} MB at ${(v.baseline.at / 60).toFixed(1)} min ` +
      `(${v.growthPercent >= 0 ? '+' : ''}${v.growthPercent.toFixed(1)} %; peak ${mb(peakKb)} MB): ` +
      `${v.flat ? 'flat' : '**grew**'} (tolerance ${o.tolerance} %).`,
    '',
  ];
  return L.join('\n');
}

// ---------------------------------------------------------------- main

function preflight(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, packet capture, iptables)';
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) return 'dist/src/cli/main.js is missing: run `npx tsc -p tsconfig.json`';
  for (const [exe, pkg] of [['ip', 'iproute2'], ['iptables', 'iptables']] as const) {
    if (spawnSync('sh', ['-c', 'command -v "$0"', exe]).status !== 0) return `${exe} is missing: apt-get install -y ${pkg}`;
  }
  return null;
}

async function soak(o: Options, lab: Lab): Promise<{ samples: Sample[]; events: Map<string, number>; client: string }> {
  const seconds = Math.round(o.minutes * 60);
  start(['ip', 'netns', 'exec', lab.server, process.execPath, '-e', SERVER_PROGRAM], (seconds + 300) * 1000);
  const listening = (): boolean => {
    const ss = must(['ip', 'netns', 'exec', lab.server, 'ss', '-ltnH']);
    return ss.includes(`:${SERVED}`) && ss.includes(`:${DROPPED}`);
  };
  await waitFor('the listeners', listening, 10_000);

  const port = await freePort();
  const watch = start([process.execPath, SYNSCOPE, 'watch', '--netns', `${lab.server}:${SERVER_DEV}`, '--window', WINDOW, '--metrics', `127.0.0.1:${port}`, ...o.watchArgs], (seconds + 300) * 1000);
  const events = new Map<string, number>();
  let eventCount = 0;
  readline.createInterface({ input: watch.stdout! }).on('line', (line) => {
    const type = (JSON.parse(line) as { type: string }).type;
    events.set(type, (events.get(type) ?? 0) + 1);
    eventCount++;
  });
  let stderr = '';
  watch.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-4000); process.stderr.write(s); });
  await waitFor('watch capturing', () => stderr.includes('capturing on') || watch.exitCode !== null, 30_000);
  if (watch.exitCode !== null) throw new Error(`watch exited ${watch.exitCode}: ${stderr.trim()}`);

  const client = start(['ip', 'netns', 'exec', lab.client, process.execPath, '-e', clientProgram(o.rate, seconds)], (seconds + 60) * 1000);
  let clientCounts = '';
  readline.createInterface({ input: client.stdout! }).on('line', (line) => { clientCounts = line; });

  const begun = Date.now();
  const samples: Sample[] = [];
  let dropOn = false;
  let nextToggle = begun + o.toggleMinutes * 60_000;
  setDrop(lab, (dropOn = true));
  log(`capturing; DROP of ${DROPPED} on, toggled every ${o.toggleMinutes} min; ${o.minutes} min to go`);
  for (let next = begun + SAMPLE_MS; next <= begun + seconds * 1000; next += SAMPLE_MS) {
    await sleep(Math.max(0, next - Date.now()));
    if (watch.exitCode !== null || watch.signalCode !== null) throw new Error(`watch exited (${watch.exitCode ?? watch.signalCode}) during the soak: ${stderr.trim()}`);
    if (Date.now() >= nextToggle) {
      setDrop(lab, (dropOn = !dropOn));
      nextToggle += o.toggleMinutes * 60_000;
      log(`DROP of ${DROPPED} ${dropOn ? 'on' : 'off'}`);
    }
    const usage = processUsage(watch.pid!);
    const m = await scrapeMetrics(port);
    const s: Sample = {
      at: (Date.now() - begun) / 1000,
      ...usage,
      windows: m.get('synscope_windows_total') ?? 0,
      completed: m.get('synscope_handshakes_total{outcome="completed"}') ?? 0,
      events: eventCount,
      openFindings: sumOf(m, 'synscope_findings_open{'),
    };
    samples.push(s);
    log(`${(s.at / 60).toFixed(1)} min: RSS ${mb(s.rssKb)} MB, CPU ${s.cpuSeconds.toFixed(0)} s, ${s.windows} windows, ${s.events} events, ${s.openFindings} open`);
  }
  killGroup(client, 'SIGTERM');
  killGroup(watch, 'SIGINT');
  await waitFor('watch to stop after SIGINT', () => watch.exitCode !== null || watch.signalCode !== null, 30_000);
  if (watch.exitCode !== 0) throw new Error(`watch exited ${watch.exitCode ?? watch.signalCode} after SIGINT: ${stderr.trim()}`);
  await waitFor('the client to stop', () => client.exitCode !== null || client.signalCode !== null, 10_000);
  return { samples, events, client: clientCounts };
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const problem = preflight();
  if (problem !== null) {
    log(problem);
    return 1;
  }
  const command = `node dist/bench/watch-soak.js${process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  const prefix = `sssoak${process.pid}`;
  const cleanup = (): void => {
    for (const c of running) killGroup(c, 'SIGKILL');
    destroyLab(prefix);
  };
  cleanUpOnExit(cleanup, log);

  removeStaleLabs();
  fs.mkdirSync(OUT_DIR, { recursive: true });
  try {
    const lab = createLab(prefix);
    const { samples, events, client } = await soak(o, lab);
    if (samples.length === 0) throw new Error('no sample taken');
    const v = verdictOf(samples, o);
    const md = render(o, command, samples, events, client, v);
    fs.writeFileSync(path.join(OUT_DIR, 'watch-soak.md'), md);
    process.stdout.write(md);
    return v.flat ? 0 : 1;
  } finally {
    cleanup();
  }
}

if (require.main === module) {
  main().then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      log((e as Error).message);
      process.exitCode = 2;
    },
  );
}
