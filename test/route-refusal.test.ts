import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBridgeFlag } from '../src/context/bridge';
import { rejectedRule } from '../src/diagnose/rules/rejected';
import { iface, makeContext, route } from './context-fixtures';
import { diagnosisInput } from './diagnosis-fixtures';
import { handMadeFlow } from './flow-fixtures';
import { analyzeEdited } from './scenario-edit';

interface Route { destination: string; type: string }
interface Rule { priority: number; family: number; from: string | null; to: string | null; iif: string | null; oif: string | null; fwmark: number | null; action: string; table: string | null; invert: boolean }
interface Context { routes: Route[]; rules: Rule[] }

/** The stored null-routes scenario (real Docker: cli's SYNs to 198.51.100.80 dropped silently, cli2's to .81 refused by the node itself) with its snapshot changed by `edit`. */
async function analyzeWith(edit: (ctx: Context) => void) {
  const { findings } = await analyzeEdited<Context>('docker-real-null-routes', edit);
  const silent = findings.find((f) => f.evidence.service === '198.51.100.80:80');
  const refused = findings.find((f) => f.evidence.service === '198.51.100.81:80');
  assert.ok(silent !== undefined && refused !== undefined, JSON.stringify(findings.map((f) => [f.code, f.evidence.service])));
  return { silent, refused };
}

const retype = (ctx: Context, destination: string, type: string) => {
  for (const r of ctx.routes) if (r.destination === destination) r.type = type;
};

test('a blackhole route drops silently and a prohibit route refuses: each named with the route that does it', async () => {
  const { silent, refused } = await analyzeWith(() => {});
  assert.deepEqual([silent.code, silent.confidence, silent.evidence.droppedBy], ['filtered', 'high', 'blackhole-route']);
  assert.match(silent.explanation, /This host's route to 198\.51\.100\.80 is the blackhole route 198\.51\.100\.80\/32 \(table main\): the kernel drops what it forwards there without a word\./);
  assert.deepEqual([refused.code, refused.evidence.refusedByRoute], ['rejected', 'the prohibit route 198.51.100.81/32 (table main)']);
  assert.match(refused.explanation, /^This host itself \(172\.17\.0\.1\) answered/);
});

test('a route whose kind does not send what was seen explains nothing: an unreachable route sends no silence, a blackhole no ICMP', async () => {
  const { silent, refused } = await analyzeWith((ctx) => {
    retype(ctx, '198.51.100.80/32', 'unreachable');
    retype(ctx, '198.51.100.81/32', 'blackhole');
  });
  assert.equal(silent.evidence.droppedBy, undefined);
  assert.equal(refused.evidence.refusedByRoute, undefined);
  // An ICMP administratively prohibited that no route of the snapshot explains is a firewall's REJECT, as before.
  assert.match(refused.explanation, /a firewall rule rejects these connections/);
});

test('a prohibit route sends administratively prohibited and an unreachable route host unreachable: the code must match', async () => {
  const { refused } = await analyzeWith((ctx) => retype(ctx, '198.51.100.81/32', 'unreachable'));
  assert.equal(refused.evidence.refusedByRoute, undefined, 'host unreachable is not what the capture shows (administratively prohibited)');
});

test('a policy rule with a blackhole action is named, with the ip rule that deletes it', async () => {
  const { silent } = await analyzeWith((ctx) => {
    ctx.routes = ctx.routes.filter((r) => r.destination !== '198.51.100.80/32');
    ctx.rules.push({ priority: 100, family: 4, from: null, to: '198.51.100.80/32', iif: null, oif: null, fwmark: null, action: 'blackhole', table: null, invert: false });
  });
  assert.deepEqual([silent.code, silent.evidence.routedBy], ['filtered', 'policy rule 100 (blackhole)']);
  assert.match(silent.remedy[0]!, /: ip rule del priority 100\.$/);
});

test('with the null routes gone from the snapshot, the silence is not put down to routing', async () => {
  const { silent } = await analyzeWith((ctx) => {
    ctx.routes = ctx.routes.filter((r) => !r.destination.startsWith('198.51.100.8'));
  });
  assert.equal(silent.evidence.droppedBy, undefined);
});

test("no route at all: this host's own net unreachable names the missing route, and another code from it is not put down to routing", () => {
  const context = makeContext({
    interfaces: [iface('eth0', 'veth', ['192.0.2.1/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])],
    routes: [route('192.0.2.0/24 dev eth0'), route('172.17.0.0/16 dev docker0')],
  });
  const refused = (code: number) =>
    handMadeFlow({ id: 'f1', clientIp: '172.17.0.2', serverIp: '198.51.100.80', serverPort: 80, outcome: 'rejected', interfaces: [0], rejection: { by: 'icmp', from: '172.17.0.1', icmpType: 3, icmpCode: code } });
  const run = (code: number) => rejectedRule(diagnosisInput({ failedFlows: [refused(code)], interfaceNames: ['docker0'], bridges: [parseBridgeFlag('docker0=172.17.0.0/16')], context }))[0]!;
  const f = run(0);
  assert.equal(f.evidence.refusedByRoute, 'no route');
  assert.match(f.explanation, /This host has no route to 198\.51\.100\.80, not even a default one/);
  assert.match(f.remedy[0]!, /: ip route add 198\.51\.100\.80 via GATEWAY \(or a default route: ip route add default via GATEWAY\)/);
  assert.equal(run(1).evidence.refusedByRoute, undefined, 'host unreachable is not what a missing route sends');
});
