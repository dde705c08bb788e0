import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, runCli } from './cli-harness';

interface Finding { code: string; confidence: string; explanation: string; evidence: Record<string, unknown>; remedy: string[] }
interface Route { destination: string; type: string }
interface Rule { priority: number; family: number; from: string | null; to: string | null; iif: string | null; oif: string | null; fwmark: number | null; action: string; table: string | null; invert: boolean }
interface Context { routes: Route[]; rules: Rule[] }

const SCENARIO = path.join(REPO, 'captures', 'docker-real-null-routes');

/** The stored null-routes scenario (real Docker: cli's SYNs to 198.51.100.80 dropped silently, cli2's to .81 refused by the node itself) with its snapshot changed by `edit`. */
async function analyzeWith(edit: (ctx: Context) => void): Promise<{ silent: Finding; refused: Finding }> {
  const context = JSON.parse(fs.readFileSync(path.join(SCENARIO, 'context.json'), 'utf8')) as Context;
  edit(context);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-routes-')), 'context.json');
  fs.writeFileSync(file, JSON.stringify(context));
  const r = await runCli('analyze', path.join(SCENARIO, 'capture.pcapng'), '--context', file, '--json');
  assert.equal(r.code, 0, r.stderr);
  const findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
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
