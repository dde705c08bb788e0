import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { loadHostContext } from '../src/context/load';
import { attemptPath, type AttemptPath } from '../src/flow/attempt-path';
import type { AttemptOutcome, Flow } from '../src/flow/flow';
import { renderAttemptLadders, renderLadder } from '../src/report/ladder';
import { renderText } from '../src/report/text';
import { REPO, runBin } from './cli-harness';
import { handMadeFlow } from './flow-fixtures';

const SCENARIO = path.join(REPO, 'captures', 'docker-gwbridge-ingress');

interface HopSpec {
  id: string;
  client?: [string, number];
  server?: [string, number];
  syns?: number;
  synAcks?: number;
  outcome?: AttemptOutcome;
}

/** One hop's flow of a hand-made attempt. */
function flow(s: HopSpec): Flow {
  const [clientIp, clientPort] = s.client ?? ['198.51.100.7', 40000];
  const [serverIp, serverPort] = s.server ?? ['192.0.2.1', 8080];
  return handMadeFlow({
    id: s.id,
    clientIp,
    clientPort,
    serverIp,
    serverPort,
    state: 'S0',
    syns: s.syns ?? 3,
    synAcks: s.synAcks ?? 0,
    origPackets: s.syns ?? 3,
    respPackets: s.synAcks ?? 0,
    lastSeen: 1003,
    firstSynAckAt: s.synAcks ? 1000.001 : null,
    isn: 1,
    synOptions: null,
    synIpId: null,
    outcome: s.outcome ?? 'unanswered',
  });
}

function ladderOf(flows: Flow[], interfaces: string[]): { path: AttemptPath; lines: string[] } {
  const path = attemptPath(flows, interfaces);
  return { path, lines: renderLadder(path, new Map(flows.map((f) => [f.id, f]))) };
}

/** The column of the lane whose header is `name`. */
function laneOf(header: string, name: string): number {
  const start = header.indexOf(name);
  assert.ok(start >= 0, `header names ${name}: ${header}`);
  return start + Math.floor(name.length / 2);
}

function analyzeScenario() {
  return analyzeFiles([path.join(SCENARIO, 'capture.pcapng')], { context: loadHostContext(path.join(SCENARIO, 'context.json')) });
}

test('ladder: the docker_gwbridge attempt stops at docker_gwbridge with its SYNs DNATed and no SYN-ACK', () => {
  const a = analyzeScenario();
  assert.equal(a.attempts.length, 1);
  const lines = renderLadder(a.attempts[0]!, new Map(a.flows.map((f) => [f.id, f])));
  const [title, header, syns, replies, note] = lines;
  assert.equal(lines.length, 5, lines.join('\n'));
  assert.match(title!, /^attempt f\d+: 172\.18\.50\.20:\d+ -> 192\.0\.2\.1:8080 \(unanswered\)$/);
  assert.match(header!, /^ {2}client +eth0 +docker_gwbridge$/);
  assert.match(syns!, /\|-+ SYN x4 -+>\|-+ SYN x4, DNAT to 172\.18\.0\.2:8080 -+>\|$/);
  const gwbridge = laneOf(header!, 'docker_gwbridge');
  assert.equal(syns![gwbridge], '|');
  assert.equal(replies![gwbridge], 'X', 'the X sits in docker_gwbridge\'s lane');
  assert.equal(replies!.indexOf('X'), gwbridge, 'and nowhere else');
  assert.equal(replies![laneOf(header!, 'eth0')], '|');
  assert.equal(note, '  SYN reached docker_gwbridge; no SYN-ACK seen at any hop');
});

test('ladder: a SYN-ACK seen inside only is drawn out of the inner lane and marked lost before the outer one', () => {
  const { lines } = ladderOf(
    [flow({ id: 'f1', syns: 4 }), flow({ id: 'f2', server: ['172.18.0.2', 8080], syns: 4, synAcks: 3 })],
    ['eth0', 'docker_gwbridge'],
  );
  const [, header, , replies, note] = lines;
  const eth0 = laneOf(header!, 'eth0');
  const gwbridge = laneOf(header!, 'docker_gwbridge');
  assert.equal(replies!.slice(eth0, gwbridge + 1).replace(/-+/g, '-'), '|X- SYN-ACK x3 -|');
  assert.doesNotMatch(replies!.slice(0, eth0), /[-X<]/, 'nothing drawn between the client and eth0');
  assert.equal(note, '  SYN-ACK seen at docker_gwbridge but not at eth0: it died between them');
});

test('ladder: replies seen at every hop point back to the client; an unacknowledged SYN-ACK ends in an X at the client', () => {
  const { lines } = ladderOf(
    [flow({ id: 'f1', synAcks: 2, outcome: 'synAckLost' }), flow({ id: 'f2', client: ['10.0.0.5', 50000], synAcks: 2 })],
    ['eth0', 'br-1'],
  );
  const [title, header, syns, replies, note] = lines;
  assert.match(title!, /\(SYN-ACK lost\)$/);
  assert.match(syns!, /SYN x3, SNAT to 10\.0\.0\.5:50000 -+>\|$/);
  assert.equal(replies!.slice(laneOf(header!, 'client')).replace(/-+/g, '-'), '|X- SYN-ACK x2 -|<- SYN-ACK x2 -|');
  assert.match(note!, /SYN-ACK left by eth0 towards the client, but the client kept sending SYNs/);
});

test('ladder: more than four hops fall back to a compact list, one line per lane', () => {
  const names = ['eth0', 'br0', 'veth1', 'docker0', 'vethc'];
  const flows = names.map((_, i) => flow({ id: `f${i + 1}`, server: i < 2 ? ['192.0.2.1', 8080] : ['172.17.0.2', 80] }));
  const { lines } = ladderOf(flows, names);
  assert.equal(lines.length, 1 + 1 + names.length + 1, lines.join('\n'));
  assert.equal(lines[1], '  client');
  names.forEach((name, i) => assert.match(lines[i + 2]!, new RegExp(`^ {4}-> ${name} +SYN x3`)));
  assert.match(lines[4]!, /SYN x3, DNAT to 172\.17\.0\.2:80$/, 'the translation where the tuple changed, only there');
  assert.match(lines[6]!, /X {2}no SYN-ACK$/);
  assert.equal(lines[7], '  SYN reached vethc; no SYN-ACK seen at any hop');
});

test('ladder: long interface names are cut with an ellipsis and the picture stays within 100 columns', () => {
  const long = ['\\Device\\NPF_{8C9B0E3A-5D2F-4C61-A0B7-3E2F1D4C5B6A}', 'docker_gwbridge_with_a_long_name', 'br-0123456789abcdef0123', 'veth0123456789abcdef'];
  const { lines } = ladderOf([flow({ id: 'f1' }), flow({ id: 'f2', synAcks: 1 }), flow({ id: 'f3', synAcks: 1 }), flow({ id: 'f4', synAcks: 1 })], long);
  for (const line of lines) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
  assert.match(lines[1]!, /^ {2}client +\\Device\\NPF_\{8C… +docker_gwbridge… +br-0123456789ab… +veth0123456789a…$/);
  assert.equal(lines[3]!.replace(/-+/g, '-').replace(/ +\|/g, ' |').trim(), '| |X- SYN-ACK x1 -|<- SYN-ACK x1 -|<- SYN-ACK x1 -|');
  assert.equal(lines[4], '  SYN-ACK seen at docker_gwbridge… but not at \\Device\\NPF_{8C…: it died between them');

  const v6 = (i: number): Flow => ({
    ...flow({ id: `f${i}`, client: [`2001:db8:aaaa:bbbb:cccc:dddd:eeee:${i}`, 40000], server: [`2001:db8:1111:2222:3333:4444:5555:${i}`, 8443] }),
    ipVersion: 6,
  });
  const wide = ladderOf([v6(1), v6(2), v6(3)], long.slice(0, 3)).lines;
  for (const line of wide) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
  assert.equal(wide[2], '  client', 'lanes too wide for 100 columns: the compact list');
  assert.ok(wide.includes('                         DNAT to [2001:db8:1111:2222:3333:4444:5555:2]:8443'), wide.join('\n'));
  assert.ok(wide.includes('                         SNAT to [2001:db8:aaaa:bbbb:cccc:dddd:eeee:2]:40000'), 'each translation on its own line');
});

test('report: "Paths of failed attempts" follows the findings and shows at most five', () => {
  const text = renderText(analyzeScenario());
  const section = text.indexOf('Paths of failed attempts');
  assert.ok(section > text.indexOf('Findings (') && section < text.indexOf('Failed flows'), text);
  assert.match(text, /Paths of failed attempts\n\nattempt f\d+: /);

  const attempts = Array.from({ length: 7 }, (_, i) => attemptPath([flow({ id: `f${2 * i + 1}` }), flow({ id: `f${2 * i + 2}`, server: ['172.18.0.2', 8080] })], ['eth0', 'docker_gwbridge']));
  const lines = renderAttemptLadders(attempts, []);
  assert.equal(lines[0], 'Paths of failed attempts (first 5 of 7)');
  assert.equal(lines.filter((l) => l.startsWith('attempt ')).length, 5);
  assert.equal(lines[lines.length - 1], '  (2 more; --json lists their hops)');
  assert.ok(lines.includes('     |--- SYN --->|--- SYN, DNAT to 172.18.0.2:8080 --->|'), 'without the flows, no SYN count');
});

test('synscope analyze prints the ladder of the docker_gwbridge attempt', () => {
  const r = runBin(['analyze', path.join(SCENARIO, 'capture.pcapng'), '--context', path.join(SCENARIO, 'context.json')]);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /Paths of failed attempts\n\nattempt f\d+: 172\.18\.50\.20:\d+ -> 192\.0\.2\.1:8080 \(unanswered\)\n {2}client +eth0 +docker_gwbridge\n/);
  assert.match(r.stdout, /SYN reached docker_gwbridge; no SYN-ACK seen at any hop/);
});
