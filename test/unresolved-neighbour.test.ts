import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, runCli } from './cli-harness';

const SCENARIO = path.join(REPO, 'captures', 'docker-real-macvlan-host');

interface Finding { code: string; explanation: string; evidence: Record<string, unknown>; remedy: string[] }
interface Network { name: string; driver: string; parent?: string }

/** The stored macvlan scenario analyzed with its context changed by `edit`: its one finding. */
async function analyzeWith(edit: (ctx: { dockerNetworks: Network[]; interfaces: { name: string; addresses: unknown[] }[]; routes: { table: string; destination: string }[] }) => void): Promise<Finding> {
  const context = JSON.parse(fs.readFileSync(path.join(SCENARIO, 'context.json'), 'utf8'));
  edit(context);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-unresolved-')), 'context.json');
  fs.writeFileSync(file, JSON.stringify(context));
  const r = await runCli('analyze', path.join(SCENARIO, 'capture.pcapng'), '--context', file, '--json');
  assert.equal(r.code, 0, r.stderr);
  const findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
  assert.equal(findings.length, 1, JSON.stringify(findings.map((f) => f.code)));
  return findings[0]!;
}

test('this host\'s own host unreachable for a macvlan container on its parent: the parent/child isolation, with the shim as the remedy', async () => {
  const f = await analyzeWith(() => {});
  assert.deepEqual([f.evidence.unresolvedNeighbour, f.evidence.parent, f.evidence.container], ['192.0.2.50', 'eth0', 'web']);
  assert.match(f.explanation, /Linux delivers nothing between a macvlan parent and its children/);
});

test('the same host unreachable with no macvlan network holding the address: an unresolved neighbour, checked with ip neigh and arping', async () => {
  const f = await analyzeWith((ctx) => {
    ctx.dockerNetworks = ctx.dockerNetworks.filter((n) => n.driver !== 'macvlan');
  });
  assert.equal(f.evidence.unresolvedNeighbour, '192.0.2.50');
  assert.equal(f.evidence.container, undefined);
  assert.deepEqual(f.remedy, ['Check that 192.0.2.50 is up and on eth0\'s link: ip neigh show 192.0.2.50 (FAILED or INCOMPLETE while the clients retry); arping -I eth0 192.0.2.50.']);
});

test('a host unreachable from an address that is not this host\'s: a router on the path, as before', async () => {
  const f = await analyzeWith((ctx) => {
    for (const i of ctx.interfaces) if (i.name === 'eth0') i.addresses = [];
    ctx.routes = ctx.routes.filter((r) => !(r.table === 'local' && r.destination.startsWith('192.0.2.1/')));
  });
  assert.equal(f.evidence.unresolvedNeighbour, undefined);
  assert.match(f.explanation, /a router \(192\.0\.2\.1\) on the path refuses them/);
});
