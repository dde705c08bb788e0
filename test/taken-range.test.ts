import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, runCli } from './cli-harness';
import { tempDir } from './temp-dir';

const SCENARIO = path.join(REPO, 'captures', 'docker-real-outbound-overlap');

interface Network {
  name: string;
  subnets: string[];
  endpoints?: { name: string; addresses: string[] }[];
}

/** The stored scenario analyzed with its context changed by `edit`: the findings' codes and the overlap's servers. */
async function analyzeWith(edit: (networks: Network[]) => void): Promise<{ codes: string[]; servers: unknown }> {
  const context = JSON.parse(fs.readFileSync(path.join(SCENARIO, 'context.json'), 'utf8')) as { dockerNetworks: Network[] };
  edit(context.dockerNetworks);
  const file = path.join(tempDir('synscope-taken-range-'), 'context.json');
  fs.writeFileSync(file, JSON.stringify(context));
  const r = await runCli('analyze', path.join(SCENARIO, 'capture.pcapng'), '--context', file, '--json');
  assert.equal(r.code, 0, r.stderr);
  const findings = (JSON.parse(r.stdout) as { findings: { code: string; evidence: Record<string, unknown> }[] }).findings;
  return { codes: findings.map((f) => f.code), servers: findings.find((f) => f.code === 'bridge-subnet-overlap')?.evidence.servers };
}

test('a server inside a Docker network\'s subnet that none of its containers holds is the network\'s overlap, not its isolation rule', async () => {
  const stored = await analyzeWith(() => {});
  assert.deepEqual(stored, { codes: ['bridge-subnet-overlap'], servers: ['192.168.5.20'] });
});

test('a server that a container of the network does hold is not an overlap: the isolation rule is the cause then', async () => {
  const held = await analyzeWith((networks) => {
    const stack = networks.find((n) => n.name === 'stack_default')!;
    stack.endpoints = [...(stack.endpoints ?? []), { name: 'db', addresses: ['192.168.5.20'] }];
  });
  assert.deepEqual(held.codes, ['nat-path-break']);
});

test('without the network\'s endpoints (an older snapshot) nothing says the server is not a container: no overlap is claimed', async () => {
  const unknown = await analyzeWith((networks) => {
    delete networks.find((n) => n.name === 'stack_default')!.endpoints;
  });
  assert.ok(!unknown.codes.includes('bridge-subnet-overlap'), unknown.codes.join(' '));
});

test('a published port\'s target whose container the snapshot does not list (not inspected, or started since) is no taken range', async () => {
  const dir = path.join(REPO, 'captures', 'docker-real-listen-overflow');
  const context = JSON.parse(fs.readFileSync(path.join(dir, 'context.json'), 'utf8')) as { dockerNetworks: Network[] };
  for (const n of context.dockerNetworks) if (n.endpoints !== undefined) n.endpoints = [];
  const file = path.join(tempDir('synscope-taken-range-'), 'context.json');
  fs.writeFileSync(file, JSON.stringify(context));
  const r = await runCli('analyze', path.join(dir, 'capture.pcapng'), '--context', file, '--json');
  assert.equal(r.code, 0, r.stderr);
  const codes = (JSON.parse(r.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code);
  assert.ok(!codes.includes('bridge-subnet-overlap'), codes.join(' '));
});
