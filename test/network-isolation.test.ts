import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadHostContext } from '../src/context/load';
import { hopFacts } from '../src/diagnose/nat-hop';
import { REPO } from './cli-harness';

// The snapshot of captures/docker-real-network-isolation: dockerd 20.10 with the user-defined
// networks front (cli, 172.30.1.2) and back (web 172.30.2.2, probe), and Docker's isolation chains.
const ctx = loadHostContext(path.join(REPO, 'captures', 'docker-real-network-isolation', 'context.json'));
const bridgeOf = (name: string) => ctx.dockerNetworks!.find((n) => n.name === name)!.bridge!;

test('between two Docker networks, dropped by Docker\'s isolation rule: the client\'s container joins the server\'s network', () => {
  const [front, back] = [bridgeOf('front'), bridgeOf('back')];
  const facts = hopFacts(ctx, { packet: { src: '172.30.1.2', dst: '172.30.2.2', dstPort: 80 }, from: front, to: back });
  assert.equal(facts.dropRule, `-A DOCKER-ISOLATION-STAGE-2 -o ${back} -j DROP`);
  assert.ok(facts.sentences.some((s) => s.startsWith(`Docker keeps its networks apart: front (${front}) and back (${back}) are two networks`)), facts.sentences.join('\n'));
  assert.equal(facts.dropRemedy[0], "Put the client's container on the server's network: docker network connect back cli   (then it reaches web there, by name or at 172.30.2.2; Docker's isolation rule is rewritten on every change, so deleting it does not last)");
  assert.ok(!facts.dropRemedy.some((line) => line.includes('publish the port instead')));
});

test('the other way round, back to front: the server\'s network is front', () => {
  const facts = hopFacts(ctx, { packet: { src: '172.30.2.2', dst: '172.30.1.2', dstPort: 8080 }, from: bridgeOf('back'), to: bridgeOf('front') });
  assert.match(facts.dropRemedy[0]!, /^Put the client's container on the server's network: docker network connect front web {3}\(then it reaches cli there/);
});
