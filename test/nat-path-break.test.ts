import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { loadHostContext } from '../src/context/load';
import { diagnose } from '../src/diagnose/diagnose';
import type { Finding } from '../src/diagnose/finding';
import type { DiagnosisInput } from '../src/diagnose/input';
import { natPathBreakRule } from '../src/diagnose/rules/nat-path-break';
import { attemptPath } from '../src/flow/attempt-path';
import type { AttemptOutcome, Flow } from '../src/flow/flow';
import { ServicePaths } from '../src/flow/service-path';
import { natTarget } from '../src/diagnose/nat-hop';
import { REPO } from './cli-harness';
import { iface, makeContext, route } from './context-fixtures';
import { DOCKER_IPTABLES_SAVE, DOCKER_NFT_RULESET } from './nat-path-break-fixtures';
import { handMadeFlow } from './flow-fixtures';

const NAMES = ['eth0', 'docker0'];
const ETH0 = 0;
const DOCKER0 = 1;

interface Spec {
  id: string;
  iface: number;
  client?: [string, number];
  server?: [string, number];
  outcome?: AttemptOutcome;
  synAcks?: number;
  isn?: number;
}

/** One hop's flow of a connection attempt (a SYN retransmitted 3 times unless completed). */
function flow(s: Spec): Flow {
  const [clientIp, clientPort] = s.client ?? ['198.51.100.20', 34578];
  const [serverIp, serverPort] = s.server ?? ['192.0.2.1', 8080];
  const completed = s.outcome === 'completed';
  return handMadeFlow({
    id: s.id,
    clientIp,
    clientPort,
    serverIp,
    serverPort,
    outcome: s.outcome ?? 'unanswered',
    syns: completed ? 1 : 4,
    synAcks: s.synAcks ?? (completed ? 1 : 0),
    origPackets: 4,
    lastSeen: 1007,
    isn: s.isn ?? 123456789,
    interfaces: [s.iface],
  });
}

/** A Docker host: eth0 192.0.2.1/24 (198.51.100.0/24 on-link too), docker0 172.17.0.1/16 with one container port. */
function dockerHost(iptables: string | null, nft: string | null = null) {
  const docker0 = { ...iface('docker0', 'bridge', ['172.17.0.1/16']), ports: ['veth-web'] };
  return makeContext({
    interfaces: [iface('eth0', 'veth', ['192.0.2.1/24']), docker0, iface('veth-web', 'veth', [], 'docker0')],
    routes: [route('192.0.2.0/24 dev eth0'), route('198.51.100.0/24 dev eth0'), route('203.0.113.0/24 dev eth0'), route('172.17.0.0/16 dev docker0')],
    natRules: { iptables, nft },
  });
}

function input(failed: Flow[], stitched: Flow[][] = [], context: DiagnosisInput['context'] = null): DiagnosisInput {
  return {
    failedFlows: [...failed, ...stitched.flat()],
    interfaceNames: NAMES,
    bridges: [],
    arpRequests: new Map(),
    seenAddresses: new Set(),
    capture: { droppedByCapture: 0, synAckWithoutSyn: 0, synAckWithoutSynExamples: [], oneSidedFlows: 0, truncatedFiles: [], undecodablePackets: 0, completed: 2 },
    context,
    attempts: stitched.map((hops) => attemptPath(hops, hops.map((f) => NAMES[f.interfaces[0]!]!))),
  };
}

const COMPLETED = new Map([['192.0.2.1:8080', 2]]);
const DROP_RULE = '-A DOCKER-USER -s 198.51.100.0/24 -j DROP';
const DNAT_RULE = '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80';

function only(findings: Finding[]): Finding {
  assert.deepEqual(findings.map((f) => f.code), ['nat-path-break']);
  return findings[0]!;
}

test('stopped at the first hop (context): eth0 reached, docker0 not, the DNAT rule and the DOCKER-USER drop named; no filtered', () => {
  const f = only(diagnose(input([flow({ id: 'f2', iface: ETH0 })], [], dockerHost(DOCKER_IPTABLES_SAVE)), COMPLETED));
  assert.equal(f.title, '1 attempt to 192.0.2.1:8080 reached eth0 but never docker0, where the host\'s NAT rules send it (DNAT to 172.17.0.2:80)');
  assert.equal(f.confidence, 'high');
  assert.deepEqual(f.flows, ['f2']);
  const e = f.evidence;
  assert.deepEqual([e['direction'], e['seenAt'], e['missingAt'], e['clients']], ['syn', 'eth0', 'docker0', ['198.51.100.20']]);
  assert.deepEqual(e['knownPath'], {
    source: 'context',
    attempts: 0,
    rule: DNAT_RULE,
    hops: [
      { interface: 'eth0', server: '192.0.2.1:8080', translation: 'none' },
      { interface: 'docker0', server: '172.17.0.2:80', translation: 'dnat' },
    ],
  });
  assert.deepEqual(e['dnatRules'], [DNAT_RULE]);
  assert.equal(e['forwardVerdict'], 'DROP');
  assert.deepEqual(e['forwardDrops'], [DROP_RULE]);
  assert.equal(e['replyRoute'], '198.51.100.20 dev eth0 (route 198.51.100.0/24, table main)');
  assert.deepEqual(e['bridge'], { name: 'docker0', addresses: ['172.17.0.1/16'], ports: ['veth-web'], up: true });
  assert.match(f.explanation, /between eth0 \(the last hop it reached\) and docker0 \(where it never arrived\)/);
  assert.ok(f.explanation.includes(`\`${DROP_RULE}\` applies to 198.51.100.20 → 172.17.0.2:80 from eth0 to docker0 (chain DOCKER-USER, reached from FORWARD)`), f.explanation);
  assert.ok(f.remedy.some((r) => r.includes('iptables -D DOCKER-USER -s 198.51.100.0/24 -j DROP')), f.remedy.join('\n'));
});

test('stopped at the first hop: forwarding off on the host, or on the interface the SYN came in by, is the cause and the remedy', () => {
  const client: [string, number] = ['192.0.2.77', 40000];
  for (const [sysctls, setting, fix] of [
    [{ 'net.ipv4.ip_forward': '0' }, 'net.ipv4.ip_forward = 0', 'sysctl -w net.ipv4.ip_forward=1'],
    [{ 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.eth0.forwarding': '0', 'net.ipv4.conf.docker0.forwarding': '1' }, 'net.ipv4.conf.eth0.forwarding = 0', 'sysctl -w net.ipv4.conf.eth0.forwarding=1'],
  ] as const) {
    const f = only(diagnose(input([flow({ id: 'f2', iface: ETH0, client })], [], { ...dockerHost(DOCKER_IPTABLES_SAVE), sysctls: { ...sysctls } }), COMPLETED));
    assert.equal(f.evidence['forwarding'], setting);
    assert.equal(f.confidence, 'high');
    assert.match(f.explanation, new RegExp(`does not forward IPv4 from eth0 \\(${setting.replace(/\./g, '\\.')} in the snapshot\\)`));
    assert.equal(f.remedy[0], `Turn forwarding back on: ${fix}.`);
  }
  // Off when a live capture started, on at its end: the cause of the earlier SYNs, and only "keep it on" left to do.
  const turnedOn = only(
    diagnose(input([flow({ id: 'f2', iface: ETH0, client })], [], { ...dockerHost(DOCKER_IPTABLES_SAVE), sysctls: { 'net.ipv4.ip_forward': '1' }, sysctlChanges: [{ name: 'net.ipv4.ip_forward', atStart: '0', atEnd: '1' }] }), COMPLETED),
  );
  assert.equal(turnedOn.evidence['forwarding'], 'net.ipv4.ip_forward = 0 when the capture started (1 at its end)');
  assert.match(turnedOn.explanation, /did not forward IPv4 from eth0 \(net\.ipv4\.ip_forward = 0 when the capture started \(1 at its end\)\)/);
  assert.match(turnedOn.remedy[0]!, /^Keep it on: /);
  // Forwarding on (and the rules accept): nothing said about it.
  const on = only(diagnose(input([flow({ id: 'f2', iface: ETH0, client })], [], { ...dockerHost(DOCKER_IPTABLES_SAVE), sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.eth0.forwarding': '1' } }), COMPLETED));
  assert.equal(on.evidence['forwarding'], undefined);
  assert.equal(on.confidence, 'medium');
});

test('stopped at the first hop: with only the nat table in iptables-save, the filter rules come from nft', () => {
  const natOnly = DOCKER_IPTABLES_SAVE.slice(DOCKER_IPTABLES_SAVE.indexOf('*nat'));
  const f = only(diagnose(input([flow({ id: 'f2', iface: ETH0 })], [], dockerHost(natOnly, DOCKER_NFT_RULESET)), COMPLETED));
  assert.deepEqual(f.evidence['forwardDrops'], ['nft table ip filter chain DOCKER-USER: ip saddr 198.51.100.0/24 counter drop']);
  assert.deepEqual(f.evidence['dnatRules'], [DNAT_RULE]);
  assert.ok(f.remedy[0]!.includes('nft list chain ip filter DOCKER-USER'));
});

test('stopped at the first hop: a client the rules let through gets the verdict that accepts it, and medium confidence', () => {
  const f = only(diagnose(input([flow({ id: 'f2', iface: ETH0, client: ['192.0.2.77', 40000] })], [], dockerHost(DOCKER_IPTABLES_SAVE)), COMPLETED));
  assert.equal(f.confidence, 'medium');
  assert.equal(f.evidence['forwardVerdict'], 'ACCEPT');
  assert.equal(f.evidence['forwardVerdictBy'], '-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT');
  assert.deepEqual(f.evidence['forwardDrops'], []);
});

test('stopped at the first hop (capture): other attempts stitched eth0 → docker0 give the next hop without a context', () => {
  const paths = new ServicePaths();
  for (let i = 0; i < 2; i++) {
    paths.addStitched(['eth0', 'docker0'], ['192.0.2.1:8080', '172.17.0.2:80'], [0xc000020a * 65536 + 40000 + i, 0xc000020a * 65536 + 40000 + i]);
  }
  const f = only(natPathBreakRule(input([flow({ id: 'f2', iface: ETH0 })]), new Set(), paths.list()));
  assert.equal(f.title, '1 attempt to 192.0.2.1:8080 reached eth0 but never docker0, where other attempts went (DNAT to 172.17.0.2:80)');
  assert.deepEqual(f.evidence['knownPath'], {
    source: 'capture',
    attempts: 2,
    hops: [
      { interface: 'eth0', server: '192.0.2.1:8080', translation: 'none' },
      { interface: 'docker0', server: '172.17.0.2:80', translation: 'dnat' },
    ],
  });
  assert.match(f.explanation, /2 other attempts to 192\.0\.2\.1:8080 were seen on both, eth0 192\.0\.2\.1:8080 → docker0 172\.17\.0\.2:80 \(dnat\)/);
  assert.equal(f.evidence['forwardVerdict'], undefined, 'no context, no rules');
});

test('stopped at the first hop (capture): a failed attempt stitched deeper also shows the path', () => {
  const deeper = [flow({ id: 'f5', iface: ETH0, client: ['192.0.2.30', 5000], isn: 7 }), flow({ id: 'f6', iface: DOCKER0, client: ['192.0.2.30', 5000], server: ['172.17.0.2', 80], isn: 7 })];
  const findings = natPathBreakRule(input([flow({ id: 'f2', iface: ETH0 })], [deeper]), new Set());
  assert.deepEqual(findings.map((f) => [f.evidence['seenAt'], f.evidence['missingAt'], f.flows]), [
    ['docker0', null, ['f5', 'f6']],
    ['eth0', 'docker0', ['f2']],
  ]);
});

test('no NAT on the way (a port of the host itself): not a path break, filtered keeps it', () => {
  const findings = diagnose(input([flow({ id: 'f2', iface: ETH0, server: ['192.0.2.1', 22] })], [], dockerHost(DOCKER_IPTABLES_SAVE)), COMPLETED);
  assert.deepEqual(findings.map((f) => f.code), ['filtered']);
});

test('no next hop captured: an attempt seen on eth0 of a capture without docker0 stays filtered', () => {
  const one: DiagnosisInput = { ...input([flow({ id: 'f2', iface: ETH0 })], [], dockerHost(DOCKER_IPTABLES_SAVE)), interfaceNames: ['eth0'] };
  assert.deepEqual(diagnose(one, COMPLETED).map((f) => f.code), ['filtered']);
});

test('stopped at the first hop: flows a specific rule explained are left out', () => {
  assert.deepEqual(natPathBreakRule(input([flow({ id: 'f2', iface: ETH0 })], [], dockerHost(DOCKER_IPTABLES_SAVE)), new Set(['f2'])), []);
});

const OUTBOUND = [
  flow({ id: 'f3', iface: DOCKER0, client: ['172.17.0.2', 41696], server: ['203.0.113.10', 81] }),
  flow({ id: 'f6', iface: ETH0, client: ['192.0.2.1', 41696], server: ['203.0.113.10', 81] }),
];

test('left the host masqueraded: the break is beyond this host, capture at the server', () => {
  const f = only(diagnose(input([], [OUTBOUND], dockerHost(DOCKER_IPTABLES_SAVE)), new Map()));
  assert.equal(f.title, '1 attempt to 203.0.113.10:81 left this host by eth0 (source rewritten to 192.0.2.1) and got no answer: the break is beyond this host');
  assert.deepEqual(f.flows, ['f3', 'f6']);
  const e = f.evidence;
  assert.deepEqual([e['seenAt'], e['missingAt'], e['beyondHost']], ['eth0', null, true]);
  assert.deepEqual(e['snatRules'], ['-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE']);
  assert.equal(e['routeToServer'], '203.0.113.10 dev eth0 (route 203.0.113.0/24, table main)');
  assert.match(f.remedy[0]!, /^Capture at 203\.0\.113\.10 .*tcp port 81 and host 192\.0\.2\.1/);
  // Without a context the translation alone says it: only the source was rewritten.
  const bare = only(diagnose(input([], [OUTBOUND]), new Map()));
  assert.equal(bare.evidence['beyondHost'], true);
  assert.equal(bare.evidence['snatRules'], undefined);
});

test('stopped before the masquerade (context): seen on docker0 only, a DOCKER-USER rule drops it toward eth0', () => {
  const save = DOCKER_IPTABLES_SAVE.replace(DROP_RULE, '-A DOCKER-USER -d 203.0.113.0/24 -p tcp -m tcp --dport 81 -j REJECT --reject-with icmp-port-unreachable');
  const f = only(diagnose(input([OUTBOUND[0]!], [], dockerHost(save)), new Map()));
  assert.deepEqual([f.evidence['seenAt'], f.evidence['missingAt']], ['docker0', 'eth0']);
  assert.equal((f.evidence['knownPath'] as { hops: { translation: string }[] }).hops[1]!.translation, 'snat');
  assert.equal(f.evidence['forwardVerdict'], 'REJECT');
  assert.deepEqual(f.evidence['snatRules'], ['-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE']);
  assert.match(f.title, /reached docker0 but never eth0, where the host's NAT rules send it \(SNAT \/ masquerade\)/);
});

test('a SYN-ACK seen inside and missing outside: the reply route and the forward verdict for the reply', () => {
  const outer = flow({ id: 'f1', iface: ETH0, client: ['192.0.2.10', 40000] });
  const inner = flow({ id: 'f2', iface: DOCKER0, client: ['192.0.2.10', 40000], server: ['172.17.0.2', 80], outcome: 'synAckLost', synAcks: 3 });
  const f = only(diagnose(input([], [[outer, inner]], dockerHost(DOCKER_IPTABLES_SAVE)), new Map()));
  assert.deepEqual([f.evidence['direction'], f.evidence['seenAt'], f.evidence['missingAt']], ['syn-ack', 'docker0', 'eth0']);
  assert.equal(f.evidence['replyRoute'], '192.0.2.10 dev eth0 (route 192.0.2.0/24, table main)');
  assert.equal(f.evidence['forwardVerdict'], 'ACCEPT');
});

const SCENARIOS = path.join(REPO, 'captures');

test('scenario published-port-docker-user-drop: the DOCKER-USER drop between eth0 and docker0', () => {
  const dir = path.join(SCENARIOS, 'published-port-docker-user-drop');
  const a = analyzeFiles([path.join(dir, 'capture.pcapng')], { context: loadHostContext(path.join(dir, 'context.json')) });
  assert.deepEqual(a.summary.handshakes, { attempted: 3, completed: 2, unanswered: 1, rejected: 0, synAckLost: 0 });
  const f = only(a.findings);
  assert.deepEqual([f.evidence['service'], f.evidence['clients'], f.evidence['seenAt'], f.evidence['missingAt']], ['192.0.2.1:8080', ['198.51.100.20'], 'eth0', 'docker0']);
  assert.deepEqual(f.evidence['dnatRules'], [DNAT_RULE]);
  const drops = f.evidence['forwardDrops'] as string[];
  assert.equal(drops.length, 1);
  assert.ok(drops[0] === DROP_RULE || drops[0] === 'nft table ip filter chain DOCKER-USER: ip saddr 198.51.100.0/24 counter drop', drops[0]);
  assert.match(f.evidence['replyRoute'] as string, / dev eth0 /);
  assert.equal((f.evidence['bridge'] as { name: string }).name, 'docker0');
});

test('scenario masquerade-outbound: the answered attempts count once, the dropped one left by eth0 and broke beyond the host', () => {
  const dir = path.join(SCENARIOS, 'masquerade-outbound');
  const a = analyzeFiles([path.join(dir, 'capture.pcapng')], { context: loadHostContext(path.join(dir, 'context.json')) });
  assert.deepEqual(a.summary.handshakes, { attempted: 3, completed: 2, unanswered: 1, rejected: 0, synAckLost: 0 });
  const f = only(a.findings);
  assert.deepEqual([f.evidence['service'], f.evidence['seenAt'], f.evidence['beyondHost']], ['203.0.113.10:81', 'eth0', true]);
  assert.deepEqual((f.evidence['hops'] as { interface: string; translation: string }[]).map((h) => [h.interface, h.translation]), [
    ['docker0', 'none'],
    ['eth0', 'snat'],
  ]);
  assert.deepEqual(f.evidence['snatRules'], ['-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE']);
  assert.match(f.title, /the break is beyond this host$/);
});

test('reached the container bridge and nothing came back: the DNAT rule, the bridge, and a reply route that leaves by another device', () => {
  const ctx = dockerHost(DOCKER_IPTABLES_SAVE);
  ctx.interfaces.push(iface('eth1', 'veth', ['10.8.0.1/24']));
  ctx.routes.push(route('10.9.0.0/16 via 10.8.0.254 dev eth1'));
  const outer = flow({ id: 'f1', iface: ETH0, client: ['10.9.0.5', 40000] });
  const inner = flow({ id: 'f2', iface: DOCKER0, client: ['10.9.0.5', 40000], server: ['172.17.0.2', 80] });
  const f = only(natPathBreakRule(input([], [[outer, inner]], ctx), new Set()));
  assert.equal(f.title, '1 attempt to 192.0.2.1:8080 reached docker0 as 172.17.0.2:80 and got no answer from beyond it');
  assert.deepEqual(f.evidence['dnatRules'], [DNAT_RULE]);
  assert.equal((f.evidence['bridge'] as { name: string }).name, 'docker0');
  assert.equal(f.evidence['replyRoute'], '10.9.0.5 via 10.8.0.254 dev eth1 (route 10.9.0.0/16, table main)');
  assert.ok(f.explanation.includes('The reply would not go back the way the SYN came (eth0): 10.9.0.5 via 10.8.0.254 dev eth1'), f.explanation);
  assert.ok(f.remedy[0]!.includes('synscope live -i eth0 -i docker0 plus a capture in that namespace'), f.remedy[0]);
});

test('natTarget: DNAT targets with and without a port, ranges, IPv6', () => {
  assert.deepEqual(natTarget('172.17.0.2:80', 8080), { ip: '172.17.0.2', port: 80 });
  assert.deepEqual(natTarget('172.17.0.2', 8080), { ip: '172.17.0.2', port: 8080 });
  assert.deepEqual(natTarget('172.17.0.2-172.17.0.9:80-90', 8080), { ip: '172.17.0.2', port: 80 });
  assert.deepEqual(natTarget('[fd00::2]:80', 8080), { ip: 'fd00::2', port: 80 });
  assert.equal(natTarget('not-an-address', 80), null);
  assert.equal(natTarget(undefined, 80), null);
});

test('scenario published-port-docker-user-drop without context: the stitched good attempts say where the SYN should have gone', () => {
  const a = analyzeFiles([path.join(SCENARIOS, 'published-port-docker-user-drop', 'capture.pcapng')]);
  const f = only(a.findings);
  assert.deepEqual([f.evidence['seenAt'], f.evidence['missingAt']], ['eth0', 'docker0']);
  assert.deepEqual(f.evidence['knownPath'], {
    source: 'capture',
    attempts: 2,
    hops: [
      { interface: 'eth0', server: '192.0.2.1:8080', translation: 'none' },
      { interface: 'docker0', server: '172.17.0.2:80', translation: 'dnat' },
    ],
  });
});
