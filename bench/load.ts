/**
 * The live capture load benchmark: a burst of N distinct TCP SYNs replayed over a veth
 * pair between two throw-away network namespaces, captured by `synscope live` (each
 * backend in turn, at each rate) and, in the same run, by tcpdump as a peer reference.
 *
 *   node dist/bench/load.js [--syns 200000] [--rates 100000,200000,max] [--backends native,cap]
 *
 * Needs root, `ip`, `tcpreplay` and `tcpdump`; GNU time (`/usr/bin/time`) adds
 * synscope's CPU seconds and peak RSS. The lab is two namespaces named
 * `ssload<pid>-tx` and `ssload<pid>-rx`; the veth pair is created inside them, so the
 * host's own namespace and interfaces are never touched, and both namespaces are
 * deleted at the end, on error and on SIGINT/SIGTERM. Every child has a timeout.
 * Prints a Markdown report and writes it to bench/out/load-results.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs as parseCommandLine } from 'node:util';
import { FileSink } from '../src/capture/byte-sink';
import { PcapWriter } from '../src/capture/pcap-writer';
import { TcpFrameWriter } from '../src/synth/frames';
import { cleanUpOnExit, killGroup, removeNamespaces, removeStaleNamespaces, sleep, waitFor } from './lab-namespaces';

const ROOT = path.join(__dirname, '..', '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const SYNSCOPE = path.join(ROOT, 'bin', 'synscope.js');
const GNU_TIME = '/usr/bin/time';
/** Where GNU time writes synscope's usage for the current run; removed at the end. */
const TIME_FILE = path.join(OUT_DIR, `load-time-${process.pid}.txt`);

const TX_ADDR = '10.99.0.1/24';
const RX_ADDR = '10.99.0.2/24';
const SERVER = '10.99.0.2';
const SERVER_PORT = 8080;
/** Interface names inside the lab namespaces; they cannot clash with the host's. */
const TX_DEV = 'veth-tx';
const RX_DEV = 'veth-rx';
const LINKTYPE_ETHERNET = 1;
const SYN = 0x02;

/** "max" is tcpreplay --topspeed: as fast as one sender can go. */
const MAX = 'max';
type Rate = number | typeof MAX;

interface Options {
  syns: number;
  rates: Rate[];
  backends: string[];
}

const log = (s: string): void => { process.stderr.write(`load: ${s}\n`); };

function parseArgs(argv: readonly string[]): Options {
  const { values } = parseCommandLine({
    args: [...argv],
    options: {
      syns: { type: 'string' },
      rates: { type: 'string' },
      backends: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write('usage: node dist/bench/load.js [--syns 200000] [--rates 100000,200000,max] [--backends native,cap]\n');
    process.exit(0);
  }
  const list = (v: string | undefined, d: string): string[] => (v ?? d).split(',').map((x) => x.trim()).filter((x) => x !== '');
  const o: Options = {
    syns: Number((values.syns ?? '200000').replace(/_/g, '')),
    rates: list(values.rates, '100000,200000,max').map(parseRate),
    backends: list(values.backends, 'native,cap'),
  };
  if (!Number.isInteger(o.syns) || o.syns < 1 || o.syns > 16_000_000) throw new Error('--syns must be an integer from 1 to 16000000');
  for (const b of o.backends) if (b !== 'native' && b !== 'cap') throw new Error(`unknown backend ${b} (native or cap)`);
  return o;
}

function parseRate(text: string): Rate {
  if (text === MAX) return MAX;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`bad rate ${text}: packets per second, or "max"`);
  return n;
}

// ---------------------------------------------------------------- the lab

interface Lab {
  readonly tx: string;
  readonly rx: string;
  readonly txMac: string;
  readonly rxMac: string;
}

/** Runs a command to completion; throws with its stderr when it fails. */
function must(argv: readonly string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) {
    throw new Error(`\`${argv.join(' ')}\` failed: ${r.error?.message ?? (r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

/** Two namespaces joined by a veth pair created inside them (it never appears in the host's namespace). */
function createLab(prefix: string): Lab {
  const tx = `${prefix}-tx`;
  const rx = `${prefix}-rx`;
  must(['ip', 'netns', 'add', tx]);
  must(['ip', 'netns', 'add', rx]);
  must(['ip', '-n', tx, 'link', 'add', TX_DEV, 'type', 'veth', 'peer', 'name', RX_DEV, 'netns', rx]);
  for (const [ns, dev, addr] of [[tx, TX_DEV, TX_ADDR], [rx, RX_DEV, RX_ADDR]] as const) {
    must(['ip', '-n', ns, 'addr', 'add', addr, 'dev', dev]);
    must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  return { tx, rx, txMac: macOf(tx, TX_DEV), rxMac: macOf(rx, RX_DEV) };
}

function macOf(ns: string, dev: string): string {
  const [link] = JSON.parse(must(['ip', '-n', ns, '-j', 'link', 'show', dev])) as { address: string }[];
  return link!.address;
}

/** Deletes the namespaces (and with them the veth pair); never throws. */
function destroyLab(prefix: string): void {
  removeNamespaces([`${prefix}-tx`, `${prefix}-rx`]);
}

/** Labs left by an earlier run that was killed outright (its pid is gone). */
function removeStaleLabs(): void {
  removeStaleNamespaces(/^ssload(\d+)-(?:tx|rx)$/, log);
}

/**
 * The receive ring of the packet socket `processName` holds in namespace `ns`, from
 * `ss -0 -e -p` (e.g. "99,864 frames x 336 B, TPACKET_V2"), or null when it has none
 * yet: how we know a capture handle is really open there, and how many packets it can
 * hold before the kernel drops.
 */
function ringOf(ns: string, processName: string): string | null {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'ss', '-0', '-n', '-e', '-p'], { encoding: 'utf8', timeout: 10_000 });
  const entry = (r.stdout ?? '').split(/\n(?=\S)/).find((e) => e.includes(`(("${processName}",`));
  const m = entry === undefined ? null : /ver:(\d).*?blk_size:(\d+),blk_nr:(\d+),frm_size:(\d+),frm_nr:(\d+)/s.exec(entry);
  if (m === null) return null;
  const [, ver, blkSize, blkNr, frmSize, frmNr] = m.map(Number) as number[];
  // TPACKET_V3 packs packets into blocks; V1/V2 give every packet a whole frame.
  return ver === 2
    ? `${int(blkNr!)} blocks x ${int(blkSize! / 1024)} KiB, TPACKET_V3`
    : `${int(frmNr!)} frames x ${int(frmSize!)} B, TPACKET_V${ver! + 1}`;
}

interface LinkDrops {
  /** Dropped by the receiving veth (the kernel's per-CPU backlog was full), before any capture. */
  rx: number;
  /** Dropped on transmit by the sending veth (counted there by some kernels). */
  tx: number;
}

function linkDrops(lab: Lab): LinkDrops {
  const stats = (ns: string, dev: string) =>
    (JSON.parse(must(['ip', '-n', ns, '-j', '-s', 'link', 'show', dev])) as { stats64: { rx: { dropped: number }; tx: { dropped: number } } }[])[0]!.stats64;
  return { rx: stats(lab.rx, RX_DEV).rx.dropped, tx: stats(lab.tx, TX_DEV).tx.dropped };
}

// ---------------------------------------------------------------- the burst

/**
 * N SYNs, each its own flow: sources 10.98.b.a (a 1-250) over ports 20000 and up, to
 * 10.99.0.2:8080, with Linux's SYN options, the veth's real MACs and 1 us apart
 * (tcpreplay paces by --pps or --topspeed, not by these timestamps).
 */
function writeSynBurst(file: string, syns: number, lab: Lab): void {
  const w = new TcpFrameWriter().configure({
    srcMac: lab.txMac, dstMac: lab.rxMac, src: '10.98.0.1', dst: SERVER, srcPort: 20000, dstPort: SERVER_PORT,
    seq: 0, ack: 0, flags: SYN, options: { mss: 1460, sackPermitted: true, tsVal: 1, windowScale: 7 },
  });
  const frame = Buffer.alloc(w.frameLength());
  const pcap = new PcapWriter(new FileSink(file), { linkType: LINKTYPE_ETHERNET, snaplen: 65535 });
  try {
    for (let i = 0; i < syns; i++) {
      const host = i % 62500;
      w.src[2] = Math.floor(host / 250);
      w.src[3] = (host % 250) + 1;
      w.srcPort = 20000 + Math.floor(i / 62500);
      w.seq = (i * 2654435761) >>> 0;
      w.tsVal = i + 1;
      w.ipId = i & 0xffff;
      w.write(frame, 0);
      pcap.writePacket(frame, 1700000000 + Math.floor(i / 1e6), (i % 1e6) * 1000);
    }
  } finally {
    pcap.close();
  }
}

// ---------------------------------------------------------------- children

interface Child {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (null when killed by a signal) once the child is gone. */
  readonly exited: Promise<number | null>;
}

const running = new Set<Child>();

/** Starts a child in its own process group, killed (group and all) after `timeoutMs`. */
function start(argv: readonly string[], timeoutMs: number): Child {
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const timer = setTimeout(() => {
    log(`timeout after ${timeoutMs / 1000} s: ${argv.join(' ')}`);
    killGroup(proc, 'SIGKILL');
  }, timeoutMs);
  const child: Child = {
    proc, stdout: '', stderr: '',
    exited: new Promise((resolve) => {
      proc.on('close', (code) => {
        clearTimeout(timer);
        running.delete(child);
        resolve(code);
      });
    }),
  };
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => { child.stdout += s; });
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => { child.stderr += s; });
  proc.on('error', (e) => { child.stderr += `${e.message}\n`; });
  running.add(child);
  return child;
}

/** Waits until the child's stderr matches `re`; fails when it exits first or `timeoutMs` passes. */
async function waitForStderr(child: Child, re: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(child.stderr)) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(`exited before printing ${re}: ${lastLines(child.stderr)}`);
    if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutMs / 1000} s: ${lastLines(child.stderr)}`);
    await sleep(20);
  }
}

const lastLines = (s: string): string => s.trim().split('\n').slice(-3).join(' | ') || '(nothing on stderr)';

// ---------------------------------------------------------------- what the tools print

interface Replay {
  sent: number;
  failed: number;
  seconds: number;
  pps: number;
}

/** tcpreplay's summary: "Actual: N packets (B bytes) sent in S seconds", "Rated: ... P pps", "Successful packets: N". */
function parseTcpreplay(text: string): Replay | null {
  const seconds = /Actual: \d+ packets \(\d+ bytes\) sent in ([\d.]+) seconds/.exec(text)?.[1];
  const pps = /Rated: .*?([\d.]+) pps/.exec(text)?.[1];
  const sent = /Successful packets:\s+(\d+)/.exec(text)?.[1];
  const failed = /Failed packets:\s+(\d+)/.exec(text)?.[1];
  if (seconds === undefined || pps === undefined || sent === undefined) return null;
  return { sent: Number(sent), failed: Number(failed ?? 0), seconds: Number(seconds), pps: Number(pps) };
}

interface TcpdumpStats {
  captured: number;
  received: number;
  dropped: number;
}

/** tcpdump's exit lines: "N packets captured", "N packets received by filter", "N packets dropped by kernel". */
function parseTcpdump(text: string): TcpdumpStats | null {
  const n = (what: string) => /(\d+) packets? /.exec(text.split('\n').find((l) => l.includes(what)) ?? '')?.[1];
  const [captured, received, dropped] = [n('captured'), n('received by filter'), n('dropped by kernel')];
  if (captured === undefined || received === undefined || dropped === undefined) return null;
  return { captured: Number(captured), received: Number(received), dropped: Number(dropped) };
}

interface SynscopeSeen {
  packets: number;
  tcpPackets: number;
  attempted: number;
  /** libpcap's drops summed over inputs, or null when the backend cannot tell. */
  droppedByCapture: number | null;
}

function parseReport(json: string): SynscopeSeen {
  const r = JSON.parse(json) as {
    summary: { packets: number; tcpPackets: number; handshakes: { attempted: number } };
    inputs: { droppedByCapture?: number | null }[];
  };
  const drops = r.inputs.map((i) => i.droppedByCapture).filter((d): d is number => typeof d === 'number');
  return {
    packets: r.summary.packets,
    tcpPackets: r.summary.tcpPackets,
    attempted: r.summary.handshakes.attempted,
    droppedByCapture: drops.length === 0 ? null : drops.reduce((a, b) => a + b, 0),
  };
}

interface Usage {
  cpuSeconds: number;
  rssKb: number;
}

/** GNU time's `-f '%U %S %M'` line. */
function parseTime(file: string): Usage | null {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return null; }
  const m = /^([\d.]+) ([\d.]+) (\d+)$/m.exec(text);
  return m ? { cpuSeconds: Number(m[1]) + Number(m[2]), rssKb: Number(m[3]) } : null;
}

// ---------------------------------------------------------------- one run

interface Row {
  backend: string;
  rate: Rate;
  replay: Replay | null;
  seen: SynscopeSeen | null;
  usage: Usage | null;
  tcpdump: TcpdumpStats | null;
  linkDrops: LinkDrops;
  /** synscope's and tcpdump's receive rings, as ringOf() describes them. */
  ring: string | null;
  tcpdumpRing: string | null;
  /** Why the run is incomplete, or null. */
  problem: string | null;
}

/** Capture window: the burst at the slowest rate we accept (100k/s for "max"), twice over, plus 3 s. */
function durationSeconds(syns: number, rate: Rate): number {
  const rateForWindow = rate === MAX ? 100_000 : rate;
  return Math.ceil((2 * syns) / rateForWindow + 3);
}

function tcpreplayArgv(lab: Lab, rate: Rate, file: string): string[] {
  const pace = rate === MAX ? ['--topspeed'] : [`--pps=${rate}`];
  // -K loads the file into memory first, so disk reads never pace the burst.
  return ['ip', 'netns', 'exec', lab.tx, 'tcpreplay', '-i', TX_DEV, '-K', ...pace, file];
}

function synscopeArgv(lab: Lab, backend: string, seconds: number, timeFile: string | null): string[] {
  const live = [process.execPath, SYNSCOPE, 'live', '--netns', `${lab.rx}:${RX_DEV}`, '--duration', `${seconds}s`, '--json', '--no-trace', '--backend', backend];
  return timeFile === null ? live : [GNU_TIME, '-o', timeFile, '-f', '%U %S %M', ...live];
}

/** tcpdump on the receiving veth, started and listening. Filter "tcp": the SYNs, not the veth's own IPv6 chatter. */
async function startTcpdump(lab: Lab, seconds: number): Promise<Child> {
  const tcpdump = start(['ip', 'netns', 'exec', lab.rx, 'tcpdump', '-n', '-i', RX_DEV, '-w', '/dev/null', 'tcp'], (seconds + 120) * 1000);
  await waitForStderr(tcpdump, /listening on/, 10_000);
  return tcpdump;
}

/** synscope live, started with its capture socket open; returns the child and its ring. */
async function startSynscope(lab: Lab, backend: string, seconds: number, timeFile: string | null): Promise<{ child: Child; ring: string }> {
  const child = start(synscopeArgv(lab, backend, seconds, timeFile), (seconds + 120) * 1000);
  await waitForStderr(child, /capturing on/, 20_000);
  // "capturing on" comes once the handles are open; the socket check reads the ring libpcap got.
  let ring: string | null = null;
  await waitFor('synscope\'s capture socket', () => (ring = ringOf(lab.rx, 'node')) !== null, 20_000);
  return { child, ring: ring! };
}

async function replay(lab: Lab, rate: Rate, file: string, seconds: number): Promise<Replay> {
  const child = start(tcpreplayArgv(lab, rate, file), (seconds + 60) * 1000);
  await child.exited;
  const r = parseTcpreplay(child.stdout + child.stderr);
  if (r === null) throw new Error(`tcpreplay: ${lastLines(child.stderr || child.stdout)}`);
  return r;
}

/** One burst at one rate, captured by synscope with one backend and by tcpdump alongside. */
async function measure(lab: Lab, file: string, syns: number, backend: string, rate: Rate): Promise<Row> {
  const seconds = durationSeconds(syns, rate);
  const timeFile = fs.existsSync(GNU_TIME) ? TIME_FILE : null;
  if (timeFile !== null) fs.rmSync(timeFile, { force: true });
  const before = linkDrops(lab);
  const row: Row = { backend, rate, replay: null, seen: null, usage: null, tcpdump: null, linkDrops: before, ring: null, tcpdumpRing: null, problem: null };
  const children: Child[] = [];
  try {
    const tcpdump = await startTcpdump(lab, seconds);
    children.push(tcpdump);
    row.tcpdumpRing = ringOf(lab.rx, 'tcpdump');
    const synscope = await startSynscope(lab, backend, seconds, timeFile);
    children.push(synscope.child);
    row.ring = synscope.ring;

    row.replay = await replay(lab, rate, file, seconds);
    if (synscope.child.proc.exitCode !== null) row.problem = `synscope's ${seconds} s window closed before the burst ended`;
    // tcpdump's TPACKET_V3 ring hands over a part-filled block after its 1 s timeout.
    await sleep(1500);
    killGroup(tcpdump.proc, 'SIGINT');
    await tcpdump.exited;
    row.tcpdump = parseTcpdump(tcpdump.stderr);

    const code = await synscope.child.exited;
    if (code !== 0) throw new Error(`synscope exit ${String(code)}: ${lastLines(synscope.child.stderr)}`);
    row.seen = parseReport(synscope.child.stdout);
    if (timeFile !== null) row.usage = parseTime(timeFile);
  } catch (e) {
    row.problem ??= (e as Error).message;
  } finally {
    for (const c of children) killGroup(c.proc, 'SIGKILL');
    await Promise.all(children.map((c) => c.exited));
  }
  const after = linkDrops(lab);
  row.linkDrops = { rx: after.rx - before.rx, tx: after.tx - before.tx };
  return row;
}

// ---------------------------------------------------------------- the report

const int = (n: number): string => n.toLocaleString('en-US');
const rateText = (r: Rate): string => (r === MAX ? 'max' : int(r));

function lossText(sent: number, seen: number): string {
  const lost = sent - seen;
  return lost === 0 ? '0' : `${int(lost)} (${((100 * lost) / sent).toFixed(2)} %)`;
}

function rowText(r: Row): string {
  const sent = r.replay?.sent;
  const cells = [
    r.backend,
    rateText(r.rate),
    r.replay === null ? 'n/a' : int(Math.round(r.replay.pps)),
    sent === undefined ? 'n/a' : int(sent),
    r.seen === null ? 'n/a' : int(r.seen.attempted),
    r.seen === null || sent === undefined ? 'n/a' : lossText(sent, r.seen.attempted),
    r.seen === null ? 'n/a' : r.seen.droppedByCapture === null ? 'unknown' : int(r.seen.droppedByCapture),
    int(r.linkDrops.rx + r.linkDrops.tx),
    r.usage === null ? 'n/a' : r.usage.cpuSeconds.toFixed(2),
    r.usage === null ? 'n/a' : (r.usage.rssKb / 1024).toFixed(0),
    r.tcpdump === null ? 'n/a' : int(r.tcpdump.captured),
    r.tcpdump === null ? 'n/a' : int(r.tcpdump.dropped),
    r.ring ?? 'n/a',
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The target: no SYN lost at 100k SYN/s (and below), per backend. */
const TARGET_PPS = 100_000;

function targetLines(rows: readonly Row[]): string[] {
  return [...new Set(rows.map((r) => r.backend))].map((backend) => {
    const runs = rows.filter((r) => r.backend === backend && r.rate !== MAX && r.rate <= TARGET_PPS && r.seen !== null && r.replay !== null);
    if (runs.length === 0) return `- ${backend}: not measured at ${int(TARGET_PPS)} pps or below`;
    const lost = runs.map((r) => ({ rate: r.rate, sent: r.replay!.sent, lost: r.replay!.sent - r.seen!.attempted }));
    const met = lost.every((l) => l.lost <= 0);
    return `- ${backend}: ${met ? 'met' : '**missed**'}: ${lost.map((l) => `${int(Math.max(0, l.lost))} of ${int(l.sent)} lost at ${rateText(l.rate)} pps`).join('; ')}`;
  });
}

function version(argv: readonly string[], re: RegExp): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 });
  return re.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[0] ?? `${argv[0]} (version unknown)`;
}

function render(o: Options, command: string, load: string, rows: readonly Row[]): string {
  const cpu = os.cpus()[0]?.model?.trim() || 'unknown CPU';
  const L = [
    '## Live capture load', '',
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\`.`, '',
    `- Machine: ${os.availableParallelism()} CPUs (nproc), ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ` +
      `${os.type()} ${os.release()}, node ${process.version}; load average when the run started: ${load}`,
    `- Tools: ${version(['tcpreplay', '--version'], /tcpreplay version: \S+/)}, ${version(['tcpdump', '--version'], /tcpdump version \S+/)}, ` +
      `${version(['tcpdump', '--version'], /libpcap version \S+/)}`,
    `- Burst: ${int(o.syns)} SYNs, each its own flow, to ${SERVER}:${SERVER_PORT}, replayed with tcpreplay -K over a veth pair; ` +
      `synscope and tcpdump (defaults; ring ${rows.find((r) => r.tcpdumpRing !== null)?.tcpdumpRing ?? 'n/a'}) capture on the receiving end at the same time.`,
    '- seen = `summary.handshakes.attempted`; libpcap drops = `inputs[].droppedByCapture`; link drops = the veth pair\'s ' +
      'rx/tx dropped counters (lost before any capture); CPU = user+sys and RSS = peak, from GNU time (the whole process: start-up, ' +
      'the capture window and the report); synscope ring = its receive ring from `ss -0 -e`.', '',
    '| backend | target pps | achieved pps | SYNs sent | synscope saw | lost | libpcap drops | link drops | synscope CPU (s) | peak RSS (MB) | tcpdump captured | tcpdump dropped | synscope ring |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(rowText),
  ];
  L.push('', `Target: no SYN lost at ${int(TARGET_PPS)} SYN/s.`, '', ...targetLines(rows));
  const problems = rows.filter((r) => r.problem !== null);
  if (problems.length > 0) L.push('', ...problems.map((r) => `- ${r.backend} at ${rateText(r.rate)}: ${r.problem}`));
  L.push('');
  return L.join('\n');
}

// ---------------------------------------------------------------- main

function preflight(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, packet capture)';
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) return 'dist/src/cli/main.js is missing: run `npx tsc -p tsconfig.json`';
  for (const [exe, pkg] of [['ip', 'iproute2'], ['tcpreplay', 'tcpreplay'], ['tcpdump', 'tcpdump']] as const) {
    if (spawnSync('sh', ['-c', 'command -v "$0"', exe]).status !== 0) return `${exe} is missing: apt-get install -y ${pkg}`;
  }
  return null;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const problem = preflight();
  if (problem !== null) {
    log(problem);
    return 1;
  }
  const command = `node dist/bench/load.js${process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const prefix = `ssload${process.pid}`;
  const cleanup = (): void => {
    for (const c of running) killGroup(c.proc, 'SIGKILL');
    destroyLab(prefix);
    fs.rmSync(TIME_FILE, { force: true });
  };
  cleanUpOnExit(cleanup, log);

  removeStaleLabs();
  fs.mkdirSync(OUT_DIR, { recursive: true });
  try {
    const lab = createLab(prefix);
    log(`lab ${lab.tx} (${TX_DEV} ${lab.txMac}) -> ${lab.rx} (${RX_DEV} ${lab.rxMac})`);
    const file = path.join(OUT_DIR, `load-${o.syns}.pcap`);
    writeSynBurst(file, o.syns, lab);
    log(`wrote ${path.relative(ROOT, file)} (${int(o.syns)} SYNs)`);
    const rows: Row[] = [];
    for (const rate of o.rates) {
      for (const backend of o.backends) {
        log(`${backend} at ${rateText(rate)} pps...`);
        const row = await measure(lab, file, o.syns, backend, rate);
        log(rowText(row) + (row.problem === null ? '' : ` (${row.problem})`));
        rows.push(row);
      }
    }
    const md = render(o, command, load, rows);
    fs.writeFileSync(path.join(OUT_DIR, 'load-results.md'), md);
    process.stdout.write(md);
    return rows.some((r) => r.problem !== null) ? 1 : 0;
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
