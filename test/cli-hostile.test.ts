import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, REPO, runBin, runCli, STACK_LINE, type CliResult } from './cli-harness';
import { tempDir } from './temp-dir';
import { ETHERNET_SYN } from './decode-fixtures';
import { hostilePcapng, micros, type HostileInterface } from './hostile-pcapng';

/**
 * Every hostile input issue #11 lists, through the CLI: either the analysis runs
 * (exit 0) and every time in the JSON is RFC 3339 with a year 0001..9999 or null, or
 * it is refused with exactly one line on stderr (exit 2). Never exit 3, never a stack.
 */
const RFC3339 = /^(000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?Z$/;
const TIME_KEYS = new Set(['firstSeen', 'lastSeen', 'at', 'capturedAt']);
const ROUTE_CONFLICT = path.join(REPO, 'captures', 'route-conflict');
const REFUSALS = path.join(REPO, 'captures', 'refusals', 'capture.pcapng');
const DIR = tempDir('synscope-hostile-');

function file(name: string, bytes: Uint8Array | string): string {
  const p = path.join(DIR, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Every value under a time key, with its path. */
function times(value: unknown, at = ''): Array<[string, unknown]> {
  if (Array.isArray(value)) return value.flatMap((v, i) => times(v, `${at}/${i}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => (TIME_KEYS.has(k) && (typeof v === 'string' || v === null) ? [[`${at}/${k}`, v] as [string, unknown]] : times(v, `${at}/${k}`)));
}

/** Exit 0 with printable times, or exit 2 with one line; returns which. */
function assertHandled(r: CliResult, what: string): 'ran' | 'refused' {
  assert.doesNotMatch(r.stderr, STACK_LINE, what);
  assert.doesNotMatch(r.stderr, /internal error/, what);
  if (r.code === 0) {
    const report = JSON.parse(r.stdout);
    for (const [where, t] of times(report)) assert.ok(t === null || RFC3339.test(t as string), `${what}: ${where} = ${JSON.stringify(t)}`);
    return 'ran';
  }
  assert.equal(r.code, 2, `${what}: exit ${r.code}, stderr ${r.stderr}`);
  assert.equal(r.stderr.split('\n').length, 2, `${what}: one line, got ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, /^synscope: .*\n$/);
  return 'refused';
}

const T = micros(1_700_000_000);
const CAPTURES: Array<[string, HostileInterface, bigint[], 'ran' | 'refused']> = [
  ['if_tsoffset 2^62', { tsoffset: 1n << 62n }, [T], 'refused'],
  ['if_tsoffset -2^62', { tsoffset: -(1n << 62n) }, [T], 'refused'],
  ['if_tsoffset -1 h', { tsoffset: -3600n }, [T], 'ran'],
  ['if_tsresol 0x00 with a time near 2^64 s', { tsresol: 0 }, [1_700_000_000n, 0xffff_ffff_ffff_ffffn], 'ran'],
  ['if_tsresol 0x80 with a time near 2^64 s', { tsresol: 0x80 }, [1_700_000_000n, 0xffff_ffff_ffff_fff0n], 'ran'],
  ['if_tsresol 0x7f (10^-127)', { tsresol: 0x7f }, [T], 'refused'],
  ['if_tsresol 0xc0 (2^-64)', { tsresol: 0xc0 }, [T], 'refused'],
  ['a timestamp with the high bit set', {}, [(1n << 63n) | T], 'ran'],
  ['a timestamp of 2^64 - 1 us', {}, [0xffff_ffff_ffff_ffffn], 'ran'],
  ['a timestamp of 2^63 - 1 ns', { tsresol: 9 }, [(1n << 63n) - 1n], 'ran'],
  ['a time in year 9999 then one in year 10000', { tsresol: 0 }, [253402300799n, 253402300800n], 'ran'],
];

test('hostile capture clocks: analysis with printable times, or one line', async () => {
  for (const [what, iface, stamps, expected] of CAPTURES) {
    const p = file(`${what.replace(/\W+/g, '-')}.pcapng`, hostilePcapng(iface, stamps));
    for (const args of [['analyze', p, '--json', '--all-flows'], ['analyze', p, '--json']]) {
      const r = await runCli(...args);
      assert.equal(assertHandled(r, what), expected, `${what}: ${r.stderr}`);
      if (expected === 'ran') {
        const report = JSON.parse(r.stdout);
        const nulls = times(report.flows).some(([, t]) => t === null);
        assert.equal(report.warnings.some((w: string) => /capture times outside years 0001\.\.9999/.test(w)), nulls, `${what}: a warning exactly when a flow time is null`);
      }
    }
  }
});

test('a year-10000 time is null in JSON and "-" in the text report, and said so in a warning', async () => {
  const p = file('y10000.pcapng', hostilePcapng({ tsresol: 0 }, [253402300800n]));
  const json = JSON.parse((await runCli('analyze', p, '--json')).stdout);
  assert.deepEqual([json.flows[0].firstSeen, json.flows[0].lastSeen], [null, null]);
  // Its one packet, a SYN, is also the capture's last: too late to call it unanswered.
  assert.deepEqual(json.warnings, [
    '1 flow has capture times outside years 0001..9999, shown as null: the capture\'s clock (pcapng if_tsoffset, if_tsresol or the timestamps) is wrong',
    '1 unanswered attempt began less than 1 s before the capture ended, too late to tell a lost SYN from an answer still on its way: it is counted as unanswered but not diagnosed (capture longer to judge it)',
  ]);
  const text = await runCli('analyze', p);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^f1 .* 0 +- *( \S+)?$/m);
});

/** Contexts that crashed or were wrongly accepted, each given as --context and as --context HOST=FILE. */
function hostileContexts(): Array<[string, string]> {
  const base = fs.readFileSync(path.join(ROUTE_CONFLICT, 'context.json'), 'utf8');
  const edit = (name: string, change: (c: any) => void): [string, string] => {
    const c = JSON.parse(base);
    change(c);
    return [name, file(`${name}.json`, JSON.stringify(c))];
  };
  return [
    edit('counter-without-deltas', (c) => (c.kernelEvidence = { counters: [{ namespace: 'host', seconds: 1 }], events: [], unavailable: [] })),
    edit('ipv4-mapped-family-4', (c) => (c.interfaces[1].addresses[0].address = '::ffff:192.168.0.1')),
    edit('prefix-33', (c) => (c.interfaces[1].addresses[0].prefixLength = 33)),
    edit('prefix-1.5', (c) => (c.interfaces[1].addresses[0].prefixLength = 1.5)),
    edit('prefix-minus-1', (c) => (c.interfaces[1].addresses[0].prefixLength = -1)),
    edit('prefix-1e308', (c) => (c.interfaces[1].addresses[0].prefixLength = 1e308)),
    edit('family-4-ipv6-address', (c) => (c.interfaces[1].addresses[0].address = 'fd00::1')),
    edit('gateway-not-an-address', (c) => (c.dockerNetworks = [{ id: 'x', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['192.168.0.0/24'], gateways: ['not-an-address'], bridge: 'docker0', ingress: false, internal: false }])),
    edit('captured-after-year-9999', (c) => (c.capturedAt = '+148108-07-06T14:17:00.000Z')),
    ['dev-zero', '/dev/zero'],
    ['a-capture', REFUSALS],
    ['empty', file('empty.json', '')],
  ];
}

test('hostile context files: one line naming the file and the field, exit 2', async () => {
  const capture = path.join(ROUTE_CONFLICT, 'capture.pcapng');
  for (const [what, ctx] of hostileContexts()) {
    for (const args of [
      ['analyze', capture, '--json', '--context', ctx],
      ['analyze', '--json', '--host', `node-a=${capture}`, '--context', `node-a=${ctx}`],
    ]) {
      const r = await runCli(...args);
      assert.equal(assertHandled(r, `${what} (${args.join(' ')})`), 'refused', what);
      assert.ok(r.stderr.startsWith(`synscope: ${ctx}: `), `${what}: names the file: ${r.stderr}`);
    }
  }
});

test('an IPv4-mapped address given as family 6 is analyzed, not a crash', async () => {
  const c = JSON.parse(fs.readFileSync(path.join(ROUTE_CONFLICT, 'context.json'), 'utf8'));
  c.interfaces[1].addresses.push({ family: 6, address: '::ffff:192.168.0.1', prefixLength: 120 });
  const ctx = file('mapped-family-6.json', JSON.stringify(c));
  const r = await runCli('analyze', path.join(ROUTE_CONFLICT, 'capture.pcapng'), '--json', '--context', ctx);
  assert.equal(assertHandled(r, 'mapped family 6'), 'ran');
  assert.ok(JSON.parse(r.stdout).findings.some((f: { code: string }) => f.code === 'bridge-subnet-overlap'), 'the overlap finding stays');
});

test('hostile --bridge, --host and --context values: one line, exit 2', async () => {
  for (const args of [
    ['--bridge', 'docker0=::ffff:10.0.0.0/104'],
    ['--bridge', 'docker0=172.17.0.0/33'],
    ['--bridge', 'docker0=172.17.0.0/1.5'],
    ['--bridge', 'docker0=172.17.0.0/-1'],
    ['--bridge', 'docker0=fd00::/129'],
    ['--bridge', 'docker0=172.17.0.1'],
    ['--bridge', '=172.17.0.0/16'],
    ['--bridge', 'docker0'],
    ['--host', '=x.pcap'],
    ['--host', 'a='],
    ['--host', `a=${REFUSALS}`, '--context', 'a='],
    ['--host', `a=${REFUSALS}`, '--context', 'b=x.json'],
    ['--host', `a=${REFUSALS}`, '--host', `b=${REFUSALS}`],
  ]) {
    const r = await runCli('analyze', REFUSALS, '--json', ...args);
    assert.equal(assertHandled(r, args.join(' ')), 'refused', args.join(' '));
  }
});

test('the same file named twice is read once, with a warning', async () => {
  const once = JSON.parse((await runCli('analyze', REFUSALS, '--json', '--all-flows')).stdout);
  const link = path.join(DIR, 'link.pcapng');
  fs.symlinkSync(REFUSALS, link);
  const twice = JSON.parse((await runCli('analyze', REFUSALS, REFUSALS, link, '--json', '--all-flows')).stdout);
  assert.deepEqual(twice.summary, once.summary);
  assert.equal(twice.inputs.length, 1);
  assert.deepEqual(twice.warnings, [`${REFUSALS} is given twice; read once`, `${link} is the same file as ${REFUSALS}; read once`]);
});

test('no arguments, an unknown option or an unknown command: one line, exit 2', () => {
  for (const args of [[], ['--frobnicate'], ['frobnicate'], ['analyze', '--frobnicate', REFUSALS]]) {
    const r = runBin(args);
    assert.equal(assertHandled(r, `synscope ${args.join(' ')}`), 'refused');
    assert.match(r.stderr, /--help/);
  }
});

test('a reader that goes away (| head -1) ends synscope quietly with exit 0', async () => {
  const child = spawn(process.execPath, [BIN, 'analyze', REFUSALS, '--json', '--all-flows'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // closed before synscope writes anything: its first write gets EPIPE
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

test('| head -1 after megabytes of JSON: exit 0, nothing on stderr', () => {
  // 3000 SYNs from different ports: 3000 unanswered flows, far more JSON than a pipe holds.
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(1, 20);
  const records = Array.from({ length: 3000 }, (_, i) => {
    const frame = Buffer.from(ETHERNET_SYN);
    frame.writeUInt16BE(10000 + i, 34);
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + i, 0);
    r.writeUInt32LE(frame.length, 8);
    r.writeUInt32LE(frame.length, 12);
    return Buffer.concat([r, frame]);
  });
  const p = file('many.pcap', Buffer.concat([header, ...records]));
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" analyze "${p}" --json | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.trim(), '0');
});
