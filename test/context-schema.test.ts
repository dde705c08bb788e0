import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadHostContext, MAX_CONTEXT_BYTES, parseHostContext } from '../src/context/load';
import { compileContextSchema, contextProblem, CONTEXT_SCHEMA_PATH, precompiledValidator } from '../src/context/validate-context';
import { hostContextJson } from '../src/context/write-context';
import { isSynscopeError } from '../src/errors';
import { findCaptures, ROOT } from './capture-helpers';
import { tempDir } from './temp-dir';
import { iface, makeContext, route } from './context-fixtures';

const STORED = findCaptures(path.join(ROOT, 'captures'), /context\.json$/);
const BASE = JSON.parse(fs.readFileSync(path.join(ROOT, 'captures', 'route-conflict', 'context.json'), 'utf8'));

/** The route-conflict scenario's context with one change. */
function edited(change: (c: any) => void): string {
  const c = structuredClone(BASE);
  change(c);
  return JSON.stringify(c);
}

test('every context.json stored in the repository is a valid synscope.context/1', () => {
  assert.ok(STORED.length >= 9, `${STORED.length} stored contexts`);
  for (const file of STORED) {
    assert.equal(contextProblem(JSON.parse(fs.readFileSync(file, 'utf8'))), null, file);
    loadHostContext(file);
  }
});

test('the schema ships in the package', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  assert.ok(pkg.files.includes('schema'), 'package.json "files" lists schema');
  assert.equal(path.relative(ROOT, CONTEXT_SCHEMA_PATH), path.join('schema', 'context.schema.json'));
  assert.equal(JSON.parse(fs.readFileSync(CONTEXT_SCHEMA_PATH, 'utf8')).title, 'synscope.context/1');
});

test('what the context writer writes validates, kernel evidence of both event kinds included', () => {
  const ctx = makeContext({
    interfaces: [iface('docker0', 'bridge', ['172.17.0.1/16', 'fd00::1/64']), iface('eth0', 'physical', ['192.0.2.10/24'])],
    routes: [route('172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1'), route('default via 192.0.2.1 dev eth0')],
    counters: { 'TcpExt.ListenOverflows': 3, 'Tcp.MaxConn': -1, 'IpExt.InOctets': 2 ** 64 - 1 },
    conntrack: { count: 1, max: 262144 },
    kernelEvidence: {
      counters: [{ namespace: 'host', seconds: 2.5, deltas: { 'TcpExt.ListenOverflows': 2 } }],
      events: [
        { kind: 'drop', at: 1_795_353_188.5, reason: 'TCP_LISTEN_OVERFLOW', protocol: 0x0800, location: null },
        { kind: 'synack-retransmit', at: 1_795_353_189, serverAddress: '192.0.2.10', serverPort: 80, clientAddress: '2001:db8::7', clientPort: 40000 },
      ],
      unavailable: [],
    },
  });
  const text = hostContextJson(ctx);
  assert.equal(contextProblem(JSON.parse(text)), null);
  assert.deepEqual(parseHostContext(text, 'written.json'), JSON.parse(text));
});

/** Each hostile context and the one line it must give: JSON pointer, then what is wrong. */
const HOSTILE: Array<[string, string, RegExp]> = [
  ['a counter without deltas', edited((c) => (c.kernelEvidence = { counters: [{ namespace: 'host', seconds: 1 }], events: [], unavailable: [] })), /^\/kernelEvidence\/counters\/0: missing "deltas"$/],
  ['prefixLength 33 on IPv4', edited((c) => (c.interfaces[1].addresses[0].prefixLength = 33)), /^\/interfaces\/1\/addresses\/0\/prefixLength: must be <= 32 for an IPv4 address$/],
  ['prefixLength 1.5', edited((c) => (c.interfaces[1].addresses[0].prefixLength = 1.5)), /^\/interfaces\/1\/addresses\/0\/prefixLength: must be integer$/],
  ['prefixLength -1', edited((c) => (c.interfaces[1].addresses[0].prefixLength = -1)), /^\/interfaces\/1\/addresses\/0\/prefixLength: must be >= 0$/],
  ['prefixLength 1e308', edited((c) => (c.interfaces[1].addresses[0].prefixLength = 1e308)), /^\/interfaces\/1\/addresses\/0\/prefixLength: must be <= 32 for an IPv4 address$/],
  ['prefixLength 129 on IPv6', edited((c) => (c.interfaces[1].addresses[0] = { family: 6, address: 'fd00::1', prefixLength: 129 })), /^\/interfaces\/1\/addresses\/0\/prefixLength: must be <= 128$/],
  ['family 4 with an IPv6 address', edited((c) => (c.interfaces[1].addresses[0].address = 'fd00::1')), /^\/interfaces\/1\/addresses\/0\/address: must be an IPv4 address such as 192\.0\.2\.1 \(family is 4\)$/],
  ['family 4 with an IPv4-mapped address', edited((c) => (c.interfaces[1].addresses[0].address = '::ffff:192.168.0.1')), /^\/interfaces\/1\/addresses\/0\/address: must be an IPv4 address/],
  ['family 6 with an IPv4 address', edited((c) => (c.interfaces[1].addresses[0].family = 6)), /^\/interfaces\/1\/addresses\/0\/address: must be an IPv6 address/],
  ['an IPv6 address that does not parse', edited((c) => (c.interfaces[1].addresses[0] = { family: 6, address: '1::2::3', prefixLength: 64 })), /^\/interfaces\/1\/addresses\/0\/address: "1::2::3" is not an IP address$/],
  ['a Docker gateway that is not an address', edited((c) => (c.dockerNetworks = [{ id: 'x', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['192.168.0.0/24'], gateways: ['not-an-address'], bridge: 'docker0', ingress: false, internal: false }])), /^\/dockerNetworks\/0\/gateways\/0: must be an IPv4 or IPv6 address$/],
  ['an IPv4 route to an IPv6 destination', edited((c) => (c.routes[0].destination = 'fd00::/64')), /^\/routes\/0\/destination: must be an IPv4 CIDR/],
  ['a route metric of 2^32', edited((c) => (c.routes[0].metric = 2 ** 32)), /^\/routes\/0\/metric: must be <= 4294967295$/],
  ['a counter beyond 64 bits', edited((c) => (c.counters['TcpExt.ListenOverflows'] = 1e300)), /^\/counters\/TcpExt\.ListenOverflows: must be an integer counter within the 64-bit range$/],
  ['a fractional counter delta', edited((c) => (c.kernelEvidence = { counters: [{ namespace: 'host', seconds: 1, deltas: { 'TcpExt.ListenOverflows': 0.5 } }], events: [], unavailable: [] })), /^\/kernelEvidence\/counters\/0\/deltas\/TcpExt\.ListenOverflows: must be integer$/],
  ['an interface kind outside the list', edited((c) => (c.interfaces[0].kind = 'wormhole')), /^\/interfaces\/0\/kind: must be one of "bridge", /],
  ['capturedAt past year 9999', edited((c) => (c.capturedAt = '+148108-07-06T14:17:00.000Z')), /^\/capturedAt: must be an RFC 3339 time/],
  ['a kernel event at a time no output can print', edited((c) => (c.kernelEvidence = { counters: [], events: [{ kind: 'drop', at: 1e300, reason: 'X', protocol: 2048, location: null }], unavailable: [] })), /^\/kernelEvidence\/events\/0\/at: must be Unix seconds within years 1970\.\.9999$/],
  ['an IPv6 route via an IPv4 gateway', edited((c) => c.routes.push({ ...c.routes[0], family: 6, destination: 'fd00::/64', source: null, gateway: '192.168.0.254' })), /^\/routes\/\d+\/gateway: an IPv6 route cannot go via the IPv4 address "192\.168\.0\.254"$/],
];

test('hostile contexts are refused with the field path and what is wrong', () => {
  for (const [what, text, message] of HOSTILE) {
    assert.throws(
      () => parseHostContext(text, 'host.json'),
      (e: unknown) => isSynscopeError(e) && e.code === 'ERR_BAD_CONTEXT' && e.file === 'host.json' && message.test(e.message) && !e.oneLine().includes('\n'),
      what,
    );
  }
});

test('the build writes the schema validator out, and it judges as the schema compiled now does', () => {
  const built = precompiledValidator();
  assert.ok(built !== null, 'no dist/src/context/context-validator.js: run npm run build (tsc alone does not write it)');
  const fresh = compileContextSchema().validate;
  const docs: [string, unknown][] = [
    ...STORED.map((f): [string, unknown] => [f, JSON.parse(fs.readFileSync(f, 'utf8'))]),
    ...HOSTILE.map(([what, text]): [string, unknown] => [what, (() => { try { return JSON.parse(text); } catch { return null; } })()]),
  ];
  let refused = 0;
  for (const [what, doc] of docs) {
    const ok: boolean = built!(doc) as boolean;
    assert.equal(ok, fresh(doc), what);
    assert.deepEqual(built!.errors ?? null, fresh.errors ?? null, what);
    if (!ok) refused++;
  }
  assert.ok(refused >= 5, `only ${refused} of the hostile documents are refused by the schema itself`);
});

test('a validator written from another schema than the one beside it is not used (the schema changed, only tsc ran)', () => {
  const written = fs.readFileSync(path.join(ROOT, 'dist', 'src', 'context', 'context-validator.js'), 'utf8');
  // A copy beside dist/, where its require('ajv/...') still resolves; the build's own file is not touched.
  const dir = fs.mkdtempSync(path.join(ROOT, 'dist', 'validator-'));
  try {
    const copy = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));
    assert.notEqual(precompiledValidator(copy('same.js', written)), null, 'the same schema: used');
    assert.equal(precompiledValidator(copy('other.js', written.replace(/schemaDigest = "[0-9a-f]+"/, 'schemaDigest = "0000"'))), null);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an IPv4-mapped address given as IPv6 (family 6) is an address like any other', () => {
  const ctx = parseHostContext(edited((c) => (c.interfaces[1].addresses[0] = { family: 6, address: '::ffff:192.168.0.1', prefixLength: 120 })), 'host.json');
  assert.equal(ctx.interfaces[1]!.addresses[0]!.address, '::ffff:192.168.0.1');
});

test('/dev/zero and files over the size cap are refused without reading them whole', () => {
  const started = process.hrtime.bigint();
  assert.throws(() => loadHostContext('/dev/zero'), (e: unknown) => isSynscopeError(e) && e.code === 'ERR_BAD_CONTEXT' && e.offset === 0 && /starts with byte 0x00/.test(e.message));
  const big = path.join(tempDir('synscope-ctx-'), 'big.json');
  fs.writeFileSync(big, '{');
  fs.truncateSync(big, MAX_CONTEXT_BYTES + 1); // sparse: costs no disk
  assert.throws(() => loadHostContext(big), (e: unknown) => isSynscopeError(e) && e.code === 'ERR_BAD_CONTEXT' && /larger than 64 MiB/.test(e.message));
  assert.ok(Number(process.hrtime.bigint() - started) / 1e9 < 2, 'refused quickly');
});

test('JSON syntax errors name the byte offset', () => {
  assert.throws(() => parseHostContext('{"schema": "é", x}', 'host.json'), (e: unknown) => isSynscopeError(e) && e.code === 'ERR_BAD_CONTEXT' && e.offset === 17);
});
