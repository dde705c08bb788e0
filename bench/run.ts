/**
 * The speed benchmark: synscope against tcptrace and tshark on the same generated
 * capture, in one run, alternating tool by tool for R rounds, then synscope alone on
 * a file half and double the size to show whether its memory stays flat.
 *
 *   node dist/bench/run.js [--packets 2000000] [--runs 5] [--tools synscope,tcptrace,tshark]
 *                          [--no-scaling] [--check]
 *
 * Prints a Markdown report and writes it to bench/out/results.md. Wall time is
 * measured here around each child (hrtime); peak RSS and CPU time come from GNU
 * time (`/usr/bin/time`, Debian package `time`) when present. `--check` exits 1
 * when a target is missed; without it the exit code only says whether the run
 * itself worked.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs as parseCommandLine } from 'node:util';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  defaultCapturePath, generateWithMeta, GENERATOR_VERSION, metaPath, type GenerateResult,
} from './generate';

const ROOT = path.join(__dirname, '..', '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const GNU_TIME = '/usr/bin/time';
const SEED = 1;

/**
 * This round's targets (issue #12), with the project's goals (DESIGN.md "Speed") beside them;
 * the lead optimizes, this only measures.
 */
const TARGETS = {
  minPacketsPerSecond: 3e6,
  goalPacketsPerSecond: 8e6,
  minSpeedupTcptrace: 8,
  goalSpeedupTcptrace: 25,
  minSpeedupTshark: 25,
  goalSpeedupTshark: 80,
  maxRssMb: 200,
  /** "Flat": peak RSS at double the packets within this factor of the RSS at half. */
  maxRssGrowth: 1.25,
};

interface ToolSpec {
  readonly name: string;
  /** Shown in the table, FILE standing for the capture. */
  readonly display: string;
  readonly argv: (file: string) => string[];
  /** The executable that must exist. */
  readonly exe: string;
  readonly install: string;
  readonly version: () => string;
}

const TOOLS: readonly ToolSpec[] = [
  {
    name: 'synscope',
    display: 'node bin/synscope.js analyze FILE --json > /dev/null',
    argv: (f) => [process.execPath, path.join(ROOT, 'bin', 'synscope.js'), 'analyze', f, '--json'],
    exe: process.execPath,
    install: 'npm run build',
    version: () => `synscope ${readPackageVersion()} on node ${process.version}`,
  },
  {
    name: 'tcptrace',
    display: 'tcptrace -n FILE > /dev/null',
    argv: (f) => ['tcptrace', '-n', f],
    exe: 'tcptrace',
    install: 'apt-get install tcptrace',
    version: () => firstLine(run(['tcptrace', '-v']), /version\s+([\w.]+)/, 'tcptrace '),
  },
  {
    name: 'tshark',
    display: 'tshark -q -z conv,tcp -r FILE > /dev/null',
    argv: (f) => ['tshark', '-q', '-z', 'conv,tcp', '-r', f],
    exe: 'tshark',
    install: 'apt-get install tshark',
    version: () => firstLine(run(['tshark', '--version']), /TShark \(Wireshark\) ([\w.]+)/, 'tshark '),
  },
];

interface Options {
  packets: number;
  runs: number;
  tools: string[];
  scaling: boolean;
  check: boolean;
  /** Another synscope checkout (its built dist/) timed in the same rounds, e.g. the main branch beside a change. */
  baseline: string | null;
}

/** The synscope of another checkout, as one more tool in the table. */
function baselineTool(root: string): ToolSpec {
  const bin = path.join(path.resolve(root), 'bin', 'synscope.js');
  return {
    name: `synscope (${path.resolve(root)})`,
    display: `node ${path.join(path.resolve(root), 'bin', 'synscope.js')} analyze FILE --json > /dev/null`,
    argv: (f) => [process.execPath, bin, 'analyze', f, '--json'],
    exe: process.execPath,
    install: `npx tsc -p ${root}`,
    version: () => `synscope at ${path.resolve(root)}`,
  };
}

interface Sample {
  wall: number;
  cpu: number | null;
  rssKb: number | null;
}

interface ToolResult {
  readonly tool: ToolSpec;
  /** Why the tool was not measured, or null. */
  skipped: string | null;
  readonly samples: Sample[];
}

function parseArgs(argv: readonly string[]): Options {
  const { values } = parseCommandLine({
    args: [...argv],
    options: {
      packets: { type: 'string' },
      runs: { type: 'string' },
      tools: { type: 'string' },
      'no-scaling': { type: 'boolean' },
      check: { type: 'boolean' },
      baseline: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write('usage: node dist/bench/run.js [--packets N] [--runs R] [--tools synscope,tcptrace,tshark] [--no-scaling] [--check] [--baseline OTHER_CHECKOUT]\n');
    process.exit(0);
  }
  const o: Options = {
    packets: Number((values.packets ?? '2000000').replace(/_/g, '')),
    runs: Number(values.runs ?? '5'),
    tools: values.tools === undefined ? TOOLS.map((t) => t.name) : values.tools.split(',').map((t) => t.trim()).filter((t) => t !== ''),
    scaling: values['no-scaling'] !== true,
    check: values.check === true,
    baseline: values.baseline ?? null,
  };
  if (!Number.isInteger(o.packets) || o.packets < 2) throw new Error('--packets must be an integer >= 2');
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('--runs must be a positive integer');
  for (const t of o.tools) if (!TOOLS.some((x) => x.name === t)) throw new Error(`unknown tool ${t}`);
  return o;
}

function run(argv: readonly string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

function firstLine(text: string, re: RegExp, prefix: string): string {
  const m = re.exec(text);
  return m ? prefix + m[1]! : prefix + '(version unknown)';
}

function readPackageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function hasExecutable(exe: string): boolean {
  if (path.isAbsolute(exe)) return fs.existsSync(exe);
  return spawnSync('sh', ['-c', 'command -v "$0"', exe]).status === 0;
}

const log = (s: string): void => { process.stderr.write(`bench: ${s}\n`); };

/** Returns the capture for `packets`, generating it (and its meta) when missing or stale. */
function ensureCapture(packets: number): GenerateResult {
  const file = defaultCapturePath(packets);
  try {
    const meta = JSON.parse(fs.readFileSync(metaPath(file), 'utf8')) as GenerateResult;
    if (meta.generatorVersion === GENERATOR_VERSION && meta.packets === packets && meta.seed === SEED &&
        fs.statSync(file).size === meta.bytes) {
      return meta;
    }
  } catch {
    // missing or unreadable: generate below
  }
  log(`generating ${file} (${packets} packets)...`);
  const r = generateWithMeta({ packets, out: file, seed: SEED });
  log(`generated in ${r.generationSeconds.toFixed(1)} s (${(r.packets / r.generationSeconds / 1e6).toFixed(2)} M packets/s)`);
  return r;
}

/**
 * Runs one timed child with stdout to /dev/null. Wall time is measured here;
 * GNU time, when present, adds peak RSS (%M, KiB) and user+system CPU seconds.
 */
function timeOnce(argv: readonly string[]): Sample & { status: number | null; stderr: string } {
  const devNull = fs.openSync('/dev/null', 'w');
  const rusageFile = path.join(os.tmpdir(), `synscope-bench-${process.pid}.time`);
  const useTime = fs.existsSync(GNU_TIME);
  const full = useTime ? [GNU_TIME, '-f', '%U %S %M', '-o', rusageFile, ...argv] : [...argv];
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(full[0]!, full.slice(1), { stdio: ['ignore', devNull, 'pipe'], maxBuffer: 64 << 20, encoding: 'utf8' });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    let cpu: number | null = null;
    let rssKb: number | null = null;
    if (useTime) {
      // On a failing child GNU time writes "Command exited with non-zero status N" first.
      const last = fs.readFileSync(rusageFile, 'utf8').trim().split('\n').pop() ?? '';
      const [u, s, m] = last.split(' ').map(Number);
      if (u !== undefined && s !== undefined && m !== undefined && [u, s, m].every(Number.isFinite)) {
        cpu = u + s;
        rssKb = m;
      }
    }
    return { wall, cpu, rssKb, status: r.error ? null : r.status, stderr: r.error ? String(r.error) : (r.stderr ?? '') };
  } finally {
    fs.closeSync(devNull);
    fs.rmSync(rusageFile, { force: true });
  }
}

interface Verification {
  readonly ok: boolean;
  readonly text: string;
}

/**
 * Runs synscope once, untimed, and checks that it ran and that its JSON summary
 * accounts for what the generator wrote: a fast wrong answer is not a result.
 */
function verifySynscope(meta: GenerateResult): Verification {
  const argv = TOOLS[0]!.argv(meta.file);
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error || r.status !== 0) {
    const why = r.error ? String(r.error) : `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' | ')}`;
    return { ok: false, text: `cannot run \`${argv.slice(1).map((a) => path.relative(ROOT, a) || a).join(' ')}\`: ${why}` };
  }
  let report: { summary?: { packets?: number; tcpPackets?: number; handshakes?: Record<string, number> } };
  try {
    report = JSON.parse(r.stdout) as typeof report;
  } catch (e) {
    return { ok: false, text: `synscope --json printed something that is not JSON: ${(e as Error).message}` };
  }
  const s = report.summary ?? {};
  const want: Record<string, number> = {
    packets: meta.packets,
    tcpPackets: meta.packets,
    attempted: meta.handshakes.attempted,
    completed: meta.handshakes.completed,
    unanswered: meta.handshakes.unanswered,
    rejected: meta.handshakes.rejected,
    synAckLost: meta.handshakes.synAckLost,
  };
  const got: Record<string, number | undefined> = {
    packets: s.packets,
    tcpPackets: s.tcpPackets,
    ...Object.fromEntries(Object.keys(meta.handshakes).map((k) => [k, s.handshakes?.[k]])),
  };
  const wrong = Object.keys(want).filter((k) => got[k] !== want[k]);
  if (wrong.length === 0) {
    return { ok: true, text: `synscope's summary matches the generator (${meta.packets} packets, ${meta.handshakes.attempted} attempts: ${meta.handshakes.completed} completed, ${meta.handshakes.unanswered} unanswered, ${meta.handshakes.rejected} rejected)` };
  }
  return { ok: false, text: `synscope's summary differs from the generator: ${wrong.map((k) => `${k} ${String(got[k])} (expected ${want[k]})`).join(', ')}` };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

function maxOrNull(xs: readonly (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : Math.max(...v);
}

const fmtRate = (pps: number): string => (pps >= 1e6 ? `${(pps / 1e6).toFixed(2)} M` : `${(pps / 1e3).toFixed(0)} k`);
const fmtMb = (kb: number | null): string => (kb === null ? 'n/a' : (kb / 1024).toFixed(0));
const fmtS = (s: number): string => (s < 10 ? s.toFixed(3) : s.toFixed(2));
const int = (n: number): string => n.toLocaleString('en-US');

function machine(): string[] {
  let cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  if (cpu === '' || cpu === 'unknown CPU') cpu = 'unknown CPU';
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  return [
    `- Machine: ${os.availableParallelism()} CPUs (nproc), ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ` +
      `${os.type()} ${os.release()} ${os.arch()}, node ${process.version}`,
    `- Load average when the run started: ${load} (other work on the machine skews wall times; compare CPU seconds too)`,
  ];
}

/** Machine description taken when the run starts (the load average then, not after it). */
let startMachine: string[] = [];
let startedAt = new Date();

function main(): number {
  const o = parseArgs(process.argv.slice(2));
  const command = process.env['npm_lifecycle_event'] === 'bench' && process.argv.length === 2
    ? 'npm run bench'
    : `node dist/bench/run.js${process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  startMachine = machine();
  startedAt = new Date();
  const tools = TOOLS.filter((t) => o.tools.includes(t.name));
  if (o.baseline !== null) {
    if (!fs.existsSync(path.join(o.baseline, 'dist', 'src', 'cli', 'main.js'))) {
      log(`cannot run the baseline: ${path.join(o.baseline, 'dist', 'src', 'cli', 'main.js')} is missing (build it with \`npx tsc -p ${o.baseline}\`)`);
      return 1;
    }
    tools.splice(1, 0, baselineTool(o.baseline));
  }
  const withSynscope = tools.some((t) => t.name === 'synscope');

  // Fail fast, before generating anything, when the CLI is not built at all.
  if (withSynscope && !fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    log('cannot run synscope: dist/src/cli/main.js is missing (is src/cli built? run `npx tsc -p tsconfig.json`)');
    return 1;
  }

  const meta = ensureCapture(o.packets);
  const file = meta.file;
  let verification: Verification | null = null;
  if (withSynscope) {
    log('checking that synscope runs and accounts for every packet...');
    verification = verifySynscope(meta);
    log(verification.text);
    if (!verification.ok && verification.text.startsWith('cannot run')) return 1;
  }

  // Warm the page cache once so no tool pays for the first disk read.
  spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });

  const results: ToolResult[] = tools.map((tool) => ({
    tool,
    skipped: hasExecutable(tool.exe) ? null : `not installed (\`${tool.install}\`)`,
    samples: [],
  }));
  for (let round = 1; round <= o.runs; round++) {
    for (const r of results) {
      if (r.skipped !== null) continue;
      const s = timeOnce(r.tool.argv(file));
      if (s.status !== 0) {
        r.skipped = `failed: exit ${String(s.status)}: ${s.stderr.trim().split('\n').filter((l) => !/Running as user "root"/.test(l))[0] ?? ''}`;
        log(`${r.tool.name} ${r.skipped}`);
        continue;
      }
      r.samples.push(s);
      log(`round ${round}/${o.runs} ${r.tool.name}: ${fmtS(s.wall)} s, ${fmtMb(s.rssKb)} MB`);
    }
  }

  // Scaling: synscope alone on half and double the packets (same generator, same seed).
  const scaling: { meta: GenerateResult; samples: Sample[] }[] = [];
  const synscopeResult = results.find((r) => r.tool.name === 'synscope');
  if (o.scaling && synscopeResult !== undefined && synscopeResult.skipped === null) {
    for (const n of [Math.floor(o.packets / 2), o.packets * 2]) {
      const m = ensureCapture(n);
      spawnSync('cat', [m.file], { stdio: ['ignore', 'ignore', 'ignore'] });
      const samples: Sample[] = [];
      for (let round = 1; round <= o.runs; round++) {
        const s = timeOnce(TOOLS[0]!.argv(m.file));
        if (s.status !== 0) break;
        samples.push(s);
        log(`scaling ${n} packets, round ${round}/${o.runs}: ${fmtS(s.wall)} s, ${fmtMb(s.rssKb)} MB`);
      }
      scaling.push({ meta: m, samples });
    }
    scaling.splice(1, 0, { meta, samples: synscopeResult.samples });
  }

  const md = render(o, command, meta, results, scaling, verification);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(path.join(OUT_DIR, 'results.md'), md);
  process.stdout.write(md);
  log(`written to ${path.relative(process.cwd(), path.join(OUT_DIR, 'results.md'))}`);
  if (withSynscope && (synscopeResult?.skipped !== null || verification?.ok !== true)) return 1;
  if (o.check && targetRows(results, scaling, o.packets).some((t) => t.pass === false)) return 1;
  return 0;
}

interface TargetRow {
  readonly what: string;
  readonly measured: string;
  readonly pass: boolean | null;
}

function targetRows(results: readonly ToolResult[], scaling: readonly { meta: GenerateResult; samples: Sample[] }[], packets: number): TargetRow[] {
  const wall = (name: string): number | null => {
    const r = results.find((x) => x.tool.name === name);
    return r && r.skipped === null && r.samples.length > 0 ? median(r.samples.map((s) => s.wall)) : null;
  };
  const syn = wall('synscope');
  const rows: TargetRow[] = [];
  rows.push({
    what: `synscope >= ${fmtRate(TARGETS.minPacketsPerSecond)} packets/s (goal ${fmtRate(TARGETS.goalPacketsPerSecond)})`,
    measured: syn === null ? 'not measured' : `${fmtRate(packets / syn)} packets/s`,
    pass: syn === null ? null : packets / syn >= TARGETS.minPacketsPerSecond,
  });
  for (const [peer, min, goal] of [['tcptrace', TARGETS.minSpeedupTcptrace, TARGETS.goalSpeedupTcptrace], ['tshark', TARGETS.minSpeedupTshark, TARGETS.goalSpeedupTshark]] as const) {
    const p = wall(peer);
    rows.push({
      what: `>= ${min}x faster than ${peer} (goal ${goal}x)`,
      measured: syn === null || p === null ? 'not measured' : `${(p / syn).toFixed(1)}x`,
      pass: syn === null || p === null ? null : p / syn >= min,
    });
  }
  const synRes = results.find((x) => x.tool.name === 'synscope');
  const rss = synRes ? maxOrNull(synRes.samples.map((s) => s.rssKb)) : null;
  rows.push({
    what: `synscope peak RSS <= ${TARGETS.maxRssMb} MB`,
    measured: rss === null ? 'not measured' : `${fmtMb(rss)} MB`,
    pass: rss === null ? null : rss / 1024 <= TARGETS.maxRssMb,
  });
  const small = scaling[0] ? maxOrNull(scaling[0].samples.map((s) => s.rssKb)) : null;
  const big = scaling[2] ? maxOrNull(scaling[2].samples.map((s) => s.rssKb)) : null;
  rows.push({
    what: `peak RSS flat as the file grows (4x packets: <= ${TARGETS.maxRssGrowth}x RSS)`,
    measured: small === null || big === null ? 'not measured' : `${fmtMb(small)} MB -> ${fmtMb(big)} MB (${(big / small).toFixed(2)}x)`,
    pass: small === null || big === null ? null : big / small <= TARGETS.maxRssGrowth,
  });
  return rows;
}

function render(
  o: Options, command: string, meta: GenerateResult, results: readonly ToolResult[],
  scaling: readonly { meta: GenerateResult; samples: Sample[] }[], verification: Verification | null,
): string {
  const L: string[] = [];
  const syn = results.find((r) => r.tool.name === 'synscope');
  const synWall = syn && syn.skipped === null && syn.samples.length > 0 ? median(syn.samples.map((s) => s.wall)) : null;
  const versions = results.map((r) => (hasExecutable(r.tool.exe) ? r.tool.version() : `${r.tool.name} (not installed)`));
  L.push('## Benchmark', '');
  L.push(`Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\`.`, '');
  L.push(...startMachine);
  L.push(`- Tools: ${versions.join(', ')}`);
  L.push(`- Capture: \`bench/out/${path.basename(meta.file)}\`, ${int(meta.packets)} packets, ${(meta.bytes / 1e6).toFixed(0)} MB, ` +
    `${int(meta.flows)} TCP connection attempts (${int(meta.handshakes.completed)} completed, ${int(meta.handshakes.unanswered)} unanswered ` +
    `with ${int(meta.synRetransmits)} SYN retransmits, ${int(meta.handshakes.rejected)} refused by RST; ${int(meta.ipv6Flows)} over IPv6), ` +
    `${(meta.lastTs - meta.firstTs).toFixed(0)} s of traffic, written by \`bench/generate.ts\` (seed ${meta.seed}).`);
  L.push(`- Method: ${o.runs} round${o.runs === 1 ? '' : 's'}, tools alternating within each round, page cache warm, output to /dev/null; ` +
    `wall time measured around each process, ` +
    (fs.existsSync(GNU_TIME) ? 'peak RSS and CPU time from GNU time (`/usr/bin/time -f "%U %S %M"`).' : 'no `/usr/bin/time`, so no peak RSS or CPU time (`apt-get install time`).'));
  if (verification !== null) L.push(`- Output check: ${verification.ok ? '' : '**FAILED**: '}${verification.text}.`);
  L.push('');
  L.push('| tool | command | median wall (s) | runs (s) | packets/s | wall vs synscope | CPU (s) | peak RSS (MB) |');
  L.push('|---|---|---:|---|---:|---:|---:|---:|');
  for (const r of results) {
    if (r.skipped !== null || r.samples.length === 0) {
      L.push(`| ${r.tool.name} | \`${r.tool.display}\` | ${r.skipped ?? 'no successful run'} | | | | | |`);
      continue;
    }
    const w = median(r.samples.map((s) => s.wall));
    const cpus = r.samples.map((s) => s.cpu).filter((c): c is number => c !== null);
    L.push(`| ${r.tool.name} | \`${r.tool.display}\` | ${fmtS(w)} | ${r.samples.map((s) => fmtS(s.wall)).join(', ')} | ` +
      `${fmtRate(meta.packets / w)} | ${synWall === null ? 'n/a' : `${(w / synWall).toFixed(1)}x`} | ` +
      `${cpus.length ? fmtS(median(cpus)) : 'n/a'} | ${fmtMb(maxOrNull(r.samples.map((s) => s.rssKb)))} |`);
  }
  if (scaling.length > 0) {
    L.push('', '### synscope as the file grows', '');
    L.push(`The ${int(meta.packets)}-packet row reuses the timed rounds above; the others ran synscope alone, ${o.runs} time${o.runs === 1 ? '' : 's'} each.`, '');
    L.push('| packets | file (MB) | median wall (s) | packets/s | peak RSS (MB) |');
    L.push('|---:|---:|---:|---:|---:|');
    for (const s of scaling) {
      if (s.samples.length === 0) {
        L.push(`| ${int(s.meta.packets)} | ${(s.meta.bytes / 1e6).toFixed(0)} | failed | | |`);
        continue;
      }
      const w = median(s.samples.map((x) => x.wall));
      L.push(`| ${int(s.meta.packets)} | ${(s.meta.bytes / 1e6).toFixed(0)} | ${fmtS(w)} | ${fmtRate(s.meta.packets / w)} | ${fmtMb(maxOrNull(s.samples.map((x) => x.rssKb)))} |`);
    }
  }
  L.push('', '### Targets', '');
  L.push('| target | measured | met |');
  L.push('|---|---|:---:|');
  for (const t of targetRows(results, scaling, meta.packets)) {
    L.push(`| ${t.what} | ${t.measured} | ${t.pass === null ? 'n/a' : t.pass ? 'yes' : '**no**'} |`);
  }
  L.push('');
  return L.join('\n');
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (e) {
    log((e as Error).message);
    process.exitCode = 2;
  }
}
