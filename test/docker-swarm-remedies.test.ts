import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, runCli } from './cli-harness';
import { checkVerdicts, verdictOf, type Report, type VerdictScenario } from './docker-verdicts';
import { runLabScript } from './lab-script';

/**
 * The real-Docker scenarios (docker-real-*): every remedy synscope prints for them is applied
 * in the lab and shown to make the failing client connect. Each recorder builds its lab on a
 * real dockerd (test/lab/docker-lab.sh), captures with `synscope live --write`, and, with
 * DOCKER_REMEDY_DIR set, hands over to test/lab/docker-remedy-apply.sh while the lab runs: it
 * analyzes the written files, takes the remedy of the one ERROR naming each failing client,
 * applies it step by step (test/lab/remedy-steps.js says how each printed line is run) and
 * tries the client again. Here: the verdicts (one ERROR per failing client, with the cause
 * the lab built; no healthy client in any finding), the live report equal to analyze of the
 * written files, every step applied, the client failing before and connecting after.
 * The same verdict checks run on the stored captures. Needs root and Debian's docker.io.
 */

const SCENARIOS: VerdictScenario[] = [
  {
    name: 'docker-real-docker-user-drop',
    failing: { '198.51.100.20': 'nat-path-break', '172.17.0.3': 'filtered' },
    healthy: ['192.0.2.10', '198.51.100.21'],
    check(r) {
      assert.ok(!r.findings.some((f) => f.code === 'bridge-subnet-overlap'), 'no bridge-subnet-overlap in a DROP scenario');
      const npb = r.findings.find((f) => f.code === 'nat-path-break')!;
      assert.equal(npb.evidence.forwardVerdictBy, '-A DOCKER-USER -s 198.51.100.20/32 -p tcp -m tcp --dport 80 -j DROP', 'the finding names the DOCKER-USER rule');
    },
  },
  {
    name: 'docker-real-gwbridge-hostmode',
    failing: { '172.18.50.20': 'bridge-subnet-overlap' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'bridge-subnet-overlap')!;
      assert.equal(f.evidence.bridge, 'docker_gwbridge');
      assert.equal(f.evidence.subnet, '172.18.0.0/16');
      assert.match(String(f.evidence.repliesFrom), /^172\.18\.0\.\d+$/, 'the task on docker_gwbridge answers');
      assert.ok(!r.findings.some((x) => x.code === 'syn-ack-lost'));
    },
  },
  {
    name: 'docker-real-swarm-ingress',
    failing: { '172.18.50.20': 'bridge-subnet-overlap' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'bridge-subnet-overlap')!;
      assert.equal(f.evidence.bridge, 'docker_gwbridge');
      assert.equal(f.evidence.repliesFrom, '172.18.0.2', 'ingress_sbox answers');
      assert.deepEqual(f.evidence.arpAskers, ['172.18.0.2']);
      // ingress_sbox's SNAT leg (10.0.0.x) is an inner hop of the explained attempt.
      assert.ok(!r.findings.some((x) => x.code === 'syn-ack-lost'), 'no syn-ack-lost for the SNAT address');
      assert.ok(!JSON.stringify(r.findings.map((x) => x.evidence.clients)).includes('10.0.0.'));
      assert.equal(r.summary.handshakes.attempted, 4, 'each attempt counted once across eth0, docker_gwbridge and ingress_sbox');
    },
  },
  {
    name: 'docker-real-ip-forward-off',
    failing: { '192.0.2.20': 'nat-path-break' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'nat-path-break')!;
      assert.deepEqual([f.evidence.seenAt, f.evidence.missingAt, f.evidence.forwarding], ['eth0', 'docker0', 'net.ipv4.ip_forward = 0']);
      assert.equal(f.remedy[0], 'Turn forwarding back on: sysctl -w net.ipv4.ip_forward=1.');
      assert.ok(!f.remedy.some((line) => line.startsWith('Find the rule whose counter rises')), 'no hunt for a filter rule that is not there');
    },
  },
  {
    name: 'docker-real-icc-off',
    failing: { '172.17.0.3': 'filtered' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'filtered')!;
      assert.equal(f.evidence.forwardVerdictBy, '-A FORWARD -i docker0 -o docker0 -j DROP', 'Docker\'s icc rule named');
      assert.ok(!r.findings.some((x) => x.code === 'bridge-subnet-overlap'), 'a container of docker0 is no overlap');
      assert.match(f.remedy[0]!, /^Let this traffic through, before Docker's drop: iptables -I DOCKER-USER -i docker0 -o docker0 -s 172\.17\.0\.3 -d 172\.17\.0\.2 -p tcp --dport 80 -j ACCEPT\.$/);
    },
  },
  {
    name: 'docker-real-rp-filter',
    failing: { '203.0.113.10': 'filtered' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'filtered')!;
      assert.deepEqual([f.evidence.interface, f.evidence.reverseDevice], ['eth1', 'eth0'], 'strict rp_filter on eth1, the way back out of eth0');
      assert.equal(f.remedy[0], 'Make the check loose on eth1: sysctl -w net.ipv4.conf.eth1.rp_filter=2.');
    },
  },
  {
    name: 'docker-real-syn-ack-lost',
    failing: { '192.0.2.20': 'syn-ack-lost' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'syn-ack-lost')!;
      assert.equal(f.evidence.leftBy, 'eth0', 'the SYN-ACKs left the node');
      assert.equal(r.findings.length, 1, 'the container\'s leg on docker0 is the same attempt');
      assert.ok(!f.remedy.some((line) => line.includes('ip route get')), 'no look at the node\'s routes for replies that left it');
    },
  },
  {
    name: 'docker-real-masquerade-missing',
    failing: { '172.17.0.2': 'nat-path-break' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'nat-path-break')!;
      assert.deepEqual([f.evidence.bridge, f.evidence.leftBy, f.evidence.seenLeaving, f.evidence.masquerade], ['docker0', 'eth0', true, true], 'seen leaving eth0 with the container\'s address');
      assert.equal(f.confidence, 'high');
      assert.equal(f.remedy[0], "Put Docker's rule back: iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE.");
      assert.ok(!r.findings.some((x) => x.code === 'filtered'), 'the silence is explained');
    },
  },
  {
    name: 'docker-real-host-input-drop',
    failing: { '172.17.0.2': 'filtered' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'filtered')!;
      assert.deepEqual([f.confidence, f.evidence.interface, f.evidence.inputVerdictBy], ['high', 'docker0', "the INPUT chain's policy DROP"], 'the host\'s own INPUT policy named');
      assert.equal(f.remedy[0], 'Accept this traffic before the drop: iptables -I INPUT -i docker0 -s 172.17.0.0/16 -d 172.17.0.1 -p tcp --dport 8000 -j ACCEPT.');
      assert.ok((f.evidence.listeners as string[]).some((l) => /^(0\.0\.0\.0|\[::\]):8000$/.test(l)), `the snapshot's listener on port 8000: ${JSON.stringify(f.evidence.listeners)}`);
      assert.ok(!r.findings.some((x) => x.code === 'bridge-subnet-overlap'), 'a container of docker0 is no overlap');
    },
  },
  {
    name: 'docker-real-vm-bridge',
    failing: { '192.0.2.10': 'filtered' },
    healthy: ['192.0.2.1'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'filtered')!;
      assert.deepEqual([f.confidence, f.evidence.bridge, f.evidence.forwardVerdictBy, f.evidence.dockerForwardPolicy, f.evidence.dockerBridge], ['high', 'br0', 'the FORWARD policy DROP', true, false]);
      assert.doesNotMatch(f.explanation, /containers of br0/, 'br0 holds a VM, not containers');
      assert.equal(f.remedy[0], 'Accept what br0 bridges in DOCKER-USER, where Docker leaves rules alone (one rule for both directions, as a bridged frame comes in and goes out by br0): iptables -I DOCKER-USER -i br0 -o br0 -j ACCEPT.');
    },
  },
  {
    name: 'docker-real-docker-user-replies',
    failing: { '172.17.0.3': 'nat-path-break' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'nat-path-break')!;
      assert.deepEqual([f.confidence, f.evidence.direction, f.evidence.seenAt, f.evidence.missingAt, f.evidence.forwardVerdictBy], ['high', 'syn-ack', 'eth0', 'docker0', '-A DOCKER-USER ! -s 192.0.2.10/32 -i eth0 -j DROP']);
      assert.equal(f.evidence.replyRoute, '172.17.0.3 dev docker0 (route 172.17.0.0/16, table main)', 'the reply is routed to the container, as the kernel does once conntrack has undone the masquerade');
      assert.equal(f.remedy[0], "Let replies through before the rule, as Docker's documentation pairs the two: iptables -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT.");
      assert.ok(!f.remedy.some((l) => l.includes('iptables -D ')), 'deleting the rule would open the published ports to everyone');
    },
  },
  {
    name: 'docker-real-forward-policy-drop',
    failing: { '10.20.0.10': 'filtered' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'filtered')!;
      assert.deepEqual([f.confidence, f.evidence.interface, f.evidence.leavesBy, f.evidence.forwardVerdictBy, f.evidence.dockerForwardPolicy], ['high', 'eth1', 'eth0', 'the FORWARD policy DROP', true]);
      assert.deepEqual(f.remedy.slice(0, 2), [
        'Accept this forwarding in DOCKER-USER, where Docker leaves rules alone: iptables -I DOCKER-USER -i eth1 -o eth0 -j ACCEPT.',
        'And the replies back: iptables -I DOCKER-USER -i eth0 -o eth1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT.',
      ]);
    },
  },
  {
    name: 'docker-real-ufw-forward',
    failing: { '10.20.0.10': 'filtered' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'filtered')!;
      assert.deepEqual([f.confidence, f.evidence.interface, f.evidence.leavesBy, f.evidence.forwardVerdictBy, f.evidence.forwardPolicyOf], ['high', 'eth1', 'eth0', 'the FORWARD policy DROP', 'ufw']);
      assert.doesNotMatch(f.explanation, /Docker's: dockerd sets it/, 'ufw set the policy; forwarding was on before dockerd started');
      assert.equal(f.remedy[0], 'Allow this forwarding in ufw, which keeps its rules across restarts: ufw route allow in on eth1 out on eth0.');
      assert.ok(!f.remedy.some((l) => l.includes('net.ipv4.ip_forward')), 'forwarding at boot changes nothing on a ufw router');
    },
  },
  {
    name: 'docker-real-ufw-input',
    failing: { '172.17.0.2': 'filtered' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'filtered')!;
      assert.deepEqual([f.confidence, f.evidence.interface, f.evidence.inputVerdictBy, f.evidence.inputPolicyOf], ['high', 'docker0', "the INPUT chain's policy DROP", 'ufw']);
      assert.equal(f.remedy[0], 'Allow it in ufw, which keeps its rules across restarts: ufw allow in on docker0 from 172.17.0.0/16 to any port 8000 proto tcp.');
    },
  },
  {
    name: 'docker-real-conntrack-full',
    failing: { '192.0.2.20': 'filtered' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'filtered')!;
      assert.deepEqual([f.confidence, f.evidence.droppedBy], ['high', 'conntrack-table-full']);
      // Full when the SYNs came; by the window's end an entry may have expired.
      assert.ok((f.evidence.conntrackCount as number) >= (f.evidence.conntrackMax as number) * 0.99, `${f.evidence.conntrackCount} of ${f.evidence.conntrackMax}`);
      assert.ok((f.evidence.conntrackDrops as number) >= (f.evidence.syns as number), 'the drop counter rose by at least the SYNs');
      const holder = f.evidence.conntrackHolder as { entries: number; topSourceEntries: number };
      assert.deepEqual(holder, { protocol: 'tcp', state: 'ESTABLISHED', destinationPort: 5432, entries: holder.entries, sources: 1, topSource: '172.17.0.2', topSourceEntries: holder.entries });
      assert.doesNotMatch(f.explanation, /specific to these clients/, 'a full table refuses every new connection');
      assert.match(f.remedy[0]!, /: sysctl -w net\.netfilter\.nf_conntrack_max=\d+;/);
      assert.match(f.remedy[1]!, /\(container web\).*: conntrack -D -p tcp -s 172\.17\.0\.2 --dport 5432 --state ESTABLISHED\.$/);
      assert.ok(!r.findings.some((x) => x.code === 'nat-path-break'), 'the SYNs vanished before the DNAT: no hop after it is to blame');
    },
  },
  {
    name: 'docker-real-null-routes',
    failing: { '172.17.0.2': 'filtered' },
    refused: { '172.17.0.4': 'rejected' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'filtered')!;
      assert.deepEqual([f.confidence, f.evidence.droppedBy, f.evidence.routedBy], ['high', 'blackhole-route', 'the blackhole route 198.51.100.80/32 (table main)']);
      assert.equal(f.remedy[0], "If that route is not meant for this traffic (a null route left from an incident, a VPN's leak guard), delete it: ip route del blackhole 198.51.100.80/32.");
      assert.ok(!r.findings.some((x) => x.code === 'nat-path-break'), 'the routing decision dropped it: no hop after it is to blame');
      const w = r.findings.find((x) => x.code === 'rejected')!;
      assert.deepEqual([w.evidence.refusedBy, w.evidence.refusedByRoute], ['172.17.0.1', 'the prohibit route 198.51.100.81/32 (table main)']);
      assert.doesNotMatch(w.explanation, /a firewall rule rejects/, 'a prohibit route, not a firewall rule');
      assert.equal(w.remedy[0], "If that route is not meant for this traffic (a null route left from an incident, a VPN's leak guard), delete it: ip route del prohibit 198.51.100.81/32.");
    },
  },
  {
    name: 'docker-real-ipv6-unrouted',
    failing: { 'fd00:d0c::242:ac11:2': 'nat-path-break' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'nat-path-break')!;
      assert.deepEqual([f.confidence, f.evidence.translation, f.evidence.leftBy, f.evidence.subnet, f.evidence.uniqueLocal], ['high', 'none', 'eth0', 'fd00:d0c::/64', true]);
      assert.equal(f.remedy[0], "Translate it now, as Docker's ip6tables option would: ip6tables -t nat -I POSTROUTING -s fd00:d0c::/64 ! -o docker0 -j MASQUERADE.");
      assert.match(f.remedy[1]!, /\/etc\/docker\/daemon\.json: \{"experimental": true, "ip6tables": true\}\.$/);
      assert.ok(!r.findings.some((x) => x.code === 'filtered'), 'the untranslated source explains the silence');
    },
  },
  {
    name: 'docker-real-nftables-flush',
    failing: { '172.17.0.2': 'nat-path-break' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'nat-path-break')!;
      assert.deepEqual([f.confidence, f.evidence.translation, f.evidence.leftBy, f.evidence.rulesetWiped, f.evidence.tablesLeft], ['high', 'none', 'eth0', true, ['inet filter']]);
      assert.match(f.explanation, /flush ruleset/);
      assert.equal(f.remedy[0], "Put Docker's rule back: iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE.");
      assert.match(f.remedy[1]!, /systemctl restart docker.*flush table inet filter/);
    },
  },
  {
    name: 'docker-real-macvlan-host',
    failing: {},
    refused: { '172.17.0.2': 'rejected' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'rejected')!;
      assert.deepEqual([f.evidence.refusedBy, f.evidence.unresolvedNeighbour, f.evidence.routedOutOf, f.evidence.dockerNetwork, f.evidence.driver, f.evidence.container], ['192.0.2.1', '192.0.2.50', 'eth0', 'lan', 'macvlan', 'web']);
      assert.doesNotMatch(f.explanation, /a router \(192\.0\.2\.1\) on the path/, 'the node itself answered: no router on the path');
      assert.match(f.remedy[0]!, /: ip link add lan-shim link eth0 type macvlan mode bridge; ip addr add SHIM_IP\/32 dev lan-shim; ip link set lan-shim up; ip route add 192\.0\.2\.50\/32 dev lan-shim\.$/);
    },
  },
  {
    name: 'docker-real-localhost-bind',
    failing: {},
    refused: { '192.0.2.20': 'rejected' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'rejected')!;
      assert.equal(r.findings.length, 1, 'one refusal for the attempt, not one per hop');
      assert.match(String(f.evidence.refusedIn), /^container app \(pid:\d+\)$/);
      assert.deepEqual(f.evidence.listeners, ['127.0.0.1:80'], "app's listener, read live in its namespace");
      assert.match(f.remedy[0]!, /^Make the application in app listen on all addresses \(0\.0\.0\.0:80 or \[::\]:80\), not 127\.0\.0\.1:80/);
    },
  },
  {
    name: 'docker-real-publish-localhost',
    failing: {},
    refused: { '192.0.2.20': 'rejected' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'rejected')!;
      assert.equal(r.findings.length, 1, 'one refusal');
      assert.deepEqual([f.evidence.publishedOn, f.evidence.container, f.evidence.listeners], [['127.0.0.1'], 'app', ['127.0.0.1:8081']]);
      assert.match(String((f.evidence.dnatRules as string[])[0]), /^-A DOCKER -d 127\.0\.0\.1\/32 .*--dport 8081 -j DNAT --to-destination 172\.17\.0\.3:80$/);
      assert.match(f.remedy[0]!, /^If clients on the network should reach it, publish it on all addresses: recreate app with -p 8081:80 instead of -p 127\.0\.0\.1:8081:80/);
      assert.ok(!f.remedy.some((line) => /listen on all addresses/.test(line)), 'not "make the service listen on all addresses": it is docker-proxy');
    },
  },
  {
    name: 'docker-real-nftables-forward-drop',
    failing: { '192.0.2.20': 'nat-path-break', '172.17.0.3': 'nat-path-break' },
    healthy: ['192.0.2.10'],
    check(r) {
      const inbound = r.findings.find((x) => x.evidence.service === '192.0.2.1:8080')!;
      assert.deepEqual([inbound.evidence.seenAt, inbound.evidence.missingAt], ['eth0', 'docker0'], 'docker0 saw none of its packets, and was captured all the same');
      assert.equal(inbound.evidence.forwardVerdictBy, 'the policy DROP of nft chain inet filter forward');
      assert.match(inbound.remedy[0]!, /: nft insert rule inet filter forward oifname "docker0" ct status dnat accept\.$/);
      assert.match(inbound.remedy[1]!, /: nft insert rule inet filter forward iifname "docker0" ct state established,related accept\.$/);
      const outbound = r.findings.find((x) => x.evidence.service === '192.0.2.30:80')!;
      assert.deepEqual([outbound.evidence.seenAt, outbound.evidence.missingAt, outbound.evidence.forwardVerdictBy], ['docker0', 'eth0', 'the policy DROP of nft chain inet filter forward']);
      assert.match(outbound.remedy[0]!, /: nft insert rule inet filter forward iifname "docker0" oifname != "docker0" accept\.$/);
      assert.ok(!r.findings.some((x) => x.code === 'bridge-subnet-overlap'), 'a LAN client that answers ARP is no overlap of the uplink');
    },
  },
  {
    name: 'docker-real-internal-publish',
    failing: {},
    refused: { '192.0.2.20': 'rejected' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'rejected')!;
      assert.equal(r.findings.length, 1, 'one refusal');
      assert.deepEqual([f.evidence.container, f.evidence.portRequest, f.evidence.internalNetworks], ['app', '-p 8082:80', ['backend']]);
      assert.match(f.remedy[0]!, /^Give app a network that reaches outside as well: docker network connect bridge app {3}\(/);
      assert.ok(!f.remedy.some((line) => /port the service listens on/.test(line)), 'not "point the clients at 8080": that is another container\'s port');
    },
  },
  {
    name: 'docker-real-network-isolation',
    failing: { '172.30.1.2': 'nat-path-break' },
    healthy: ['172.30.2.3'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'nat-path-break')!;
      assert.match(String(f.evidence.forwardVerdictBy), /^-A DOCKER-ISOLATION-STAGE-2 -o br-[0-9a-f]{12} -j DROP$/, "Docker's isolation rule named");
      assert.match(f.remedy[0]!, /^Put the client's container on the server's network: docker network connect back cli {3}\(/);
      assert.ok(!f.remedy.some((line) => line.includes('publish the port instead')), 'no advice to publish a port for two networks that are kept apart');
    },
  },
  {
    name: 'docker-real-listen-overflow',
    failing: { '192.0.2.30': 'listen-overflow' },
    healthy: ['192.0.2.10'],
    check(r) {
      const f = r.findings.find((x) => x.code === 'listen-overflow')!;
      assert.deepEqual([f.evidence.service, f.evidence.listener, f.evidence.container], ['192.0.2.1:8080', '172.17.0.2:8080', 'app'], 'one finding for the published port, naming the container behind it');
      assert.ok(Number(f.evidence.lateAnswered) >= 1, 'answers after a SYN retransmission');
      const inside = f.evidence.listenerCounters as Record<string, number> | undefined;
      assert.ok((inside?.['TcpExt.ListenOverflows'] ?? 0) >= 1 && f.confidence === 'high', `the container's own counters, read live, confirm it: ${JSON.stringify(f.evidence)}`);
      // The node's counters are not the container's: nothing said about them, no sysctl on the host proposed.
      assert.ok(!('listenOverflows' in f.evidence) && !f.remedy.some((line) => /(^|: )sysctl -w/.test(line)), JSON.stringify(f));
    },
  },
];

for (const s of SCENARIOS) {
  test(`stored ${s.name}: one ERROR per failing client, no healthy client in any finding`, async () => {
    const dir = path.join(REPO, 'captures', s.name);
    const r = await runCli('analyze', path.join(dir, 'capture.pcapng'), '--context', path.join(dir, 'context.json'), '--json');
    assert.equal(r.code, 0, r.stderr);
    checkVerdicts(s, JSON.parse(r.stdout) as Report, `captures/${s.name}`);
  });
}

test('stored docker-real-swarm-ingress: docker_gwbridge and ingress_sbox\'s eth1 are one hop of the ladder, each SYN counted once', async () => {
  const dir = path.join(REPO, 'captures', 'docker-real-swarm-ingress');
  const r = await runCli('analyze', path.join(dir, 'capture.pcapng'), '--context', path.join(dir, 'context.json'));
  assert.equal(r.code, 0, r.stderr);
  const ladder = r.stdout.slice(r.stdout.indexOf('Paths of failed attempts'));
  const outer = /-> eth0 +SYN x(\d+)/.exec(ladder);
  const bridge = /-> docker_gwbridge +SYN x(\d+), DNAT to 172\.18\.0\.2:8080/.exec(ladder);
  assert.ok(outer !== null && bridge !== null, `no eth0 / docker_gwbridge hop in the ladder:\n${ladder}`);
  assert.equal(bridge[1], outer[1], 'the docker_gwbridge hop counts the SYNs eth0 saw, once');
  assert.ok(!/-> eth1@ingress_sbox/.test(ladder), `eth1@ingress_sbox is a hop of its own:\n${ladder}`);
  const json = await runCli('analyze', path.join(dir, 'capture.pcapng'), '--context', path.join(dir, 'context.json'), '--json');
  const flows = (JSON.parse(json.stdout) as { flows: { client: string; server: string; syns: number; interfaces: string[] }[] }).flows;
  const inner = flows.find((f) => f.client.startsWith('172.18.50.20:') && f.server === '172.18.0.2:8080');
  assert.deepEqual(inner?.interfaces, ['docker_gwbridge', 'eth1@ingress_sbox'], 'the DNATed leg is one flow seen on both');
  assert.equal(inner?.syns, Number(outer[1]));
});

// live hands the packets of several interfaces over in time order (test/live-merge.test.ts):
// a completed connection seen on docker_gwbridge and on eth1@ingress_sbox is one flow.
test('stored docker-real-swarm-ingress: a completed connection is one flow on docker_gwbridge and eth1@ingress_sbox', async () => {
  const dir = path.join(REPO, 'captures', 'docker-real-swarm-ingress');
  const json = await runCli('analyze', path.join(dir, 'capture.pcapng'), '--context', path.join(dir, 'context.json'), '--json', '--all-flows');
  const flows = (JSON.parse(json.stdout) as { flows: { client: string; server: string; state: string; syns: number; interfaces: string[] }[] }).flows;
  const legs = flows.filter((f) => f.client.startsWith('192.0.2.10:') && f.server === '172.18.0.2:8080');
  assert.equal(legs.length, 3, 'three good connections, one flow each on the docker_gwbridge hop');
  for (const f of legs) {
    assert.deepEqual(f.interfaces, ['docker_gwbridge', 'eth1@ingress_sbox'], `${f.client}: one flow seen on both`);
    assert.deepEqual([f.state, f.syns], ['SF', 1], `${f.client}: each copy counted once`);
  }
});

function readTsv(file: string): { kind: string; rc: number; secs: number; command: string }[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [kind, rc, secs, ...rest] = l.split('\t');
      return { kind: kind!, rc: Number(rc), secs: Number(secs), command: rest.join('\t') };
    });
}

/** Diagnostic commands (listings, counters) may be missing from this machine (conntrack, nft); fixes may not fail. */
const DIAGNOSTIC = /^(iptables( -t \w+)? -L|nft list|conntrack -L|nstat|sysctl [^=]*$|docker (service|secret|config|network) ls)/;

for (const s of SCENARIOS) {
  test(`${s.name}: the printed remedy, applied in the real-Docker lab, makes the failing client connect`, { timeout: 200_000 }, (t) => {
    assert.equal(process.getuid?.(), 0, 'the Docker lab needs root; run the tests as root');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-remedy-${s.name}-`));
    const started = Date.now();
    runLabScript(`${s.name}: the lab`, path.join(REPO, 'test', 'lab', `record-${s.name}.sh`), [path.join(dir, 'out.pcapng'), path.join(dir, 'out.json')], {
      timeoutMs: 180_000,
      env: { ...process.env, DOCKER_REMEDY_DIR: dir, DOCKER_LIVE_JSON: path.join(dir, 'live.json') },
    });
    const analyzed = JSON.parse(fs.readFileSync(path.join(dir, 'analyzed.json'), 'utf8')) as Report;
    const live = JSON.parse(fs.readFileSync(path.join(dir, 'live.json'), 'utf8')) as Report;
    checkVerdicts(s, analyzed, `${s.name} (analyze of the written files)`);
    assert.deepEqual(verdictOf(live), verdictOf(analyzed), `${s.name}: the live report and analyze of its files disagree`);

    for (const client of [...Object.keys(s.failing), ...Object.keys(s.refused ?? {})]) {
      const before = fs.readFileSync(path.join(dir, `before-${client}.txt`), 'utf8');
      assert.equal(before, '', `${client} got an answer before the remedy:\n${before}`);
      const steps = readTsv(path.join(dir, `applied-${client}.tsv`));
      assert.ok(steps.some((st) => ['docker', 'host', 'hand', 'ufw'].includes(st.kind)), `${client}: no remedy step was applied`);
      for (const st of steps) {
        if (st.kind === 'advice' || st.kind === 'config') continue;
        if (st.kind === 'host' && DIAGNOSTIC.test(st.command) && st.rc === 127) continue; // tool not installed
        const out = fs.readFileSync(path.join(dir, `step-${client}-${steps.indexOf(st) + 1}.out`), 'utf8');
        assert.equal(st.rc, 0, `${client}: remedy step "${st.command}" failed (${st.rc}):\n${out}`);
      }
      const after = fs.readFileSync(path.join(dir, `after-${client}.txt`), 'utf8');
      assert.match(after, /^HTTP\/1\.[01] 200 OK/, `${client} still gets no page after the remedy:\n${after}`);
    }
    for (const good of fs.readdirSync(dir).filter((f) => f.startsWith('after-good-'))) {
      assert.match(fs.readFileSync(path.join(dir, good), 'utf8'), /^HTTP\/1\.[01] 200 OK/, `${good}: a healthy client broke`);
    }
    const overlap = analyzed.findings.find((f) => f.code === 'bridge-subnet-overlap');
    if (overlap !== undefined) {
      // The recreate put docker_gwbridge on the subnet the finding proposed.
      assert.equal(fs.readFileSync(path.join(dir, 'gwbridge-after.txt'), 'utf8').trim(), overlap.evidence.proposedSubnet);
    }
    if (s.name === 'docker-real-docker-user-drop') {
      // filtered names the INPUT rule: the listing it prints shows it counting, and it is deleted as printed.
      const steps = readTsv(path.join(dir, 'applied-172.17.0.3.tsv'));
      const listing = fs.readFileSync(path.join(dir, `step-172.17.0.3-${steps.findIndex((st) => st.command.startsWith('iptables -L INPUT')) + 1}.out`), 'utf8');
      assert.match(listing, /^\s*\d+\s+[1-9]\d*\s+\d+\s+DROP\s+\S+\s+--\s+\*\s+\*\s+172\.17\.0\.3\s/m, `the INPUT listing does not show the counting DROP rule:\n${listing}`);
      assert.ok(steps.some((st) => st.kind === 'host' && st.command === 'iptables -D INPUT -s 172.17.0.3/32 -p tcp -m tcp --dport 8080 -j DROP'), 'the INPUT rule deleted as printed');
    }
    if (s.name === 'docker-real-nftables-flush') {
      // The remedy's restart, done in the lab: dockerd wrote its nat rules again.
      const nat = fs.readFileSync(path.join(dir, 'nat-after-restart.txt'), 'utf8');
      assert.match(nat, /^-A POSTROUTING -s 172\.17\.0\.0\/16 ! -o docker0 -j MASQUERADE$/m);
      assert.match(nat, /^-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172\.17\.0\.\d+:80$/m);
    }
    if (s.name === 'docker-real-listen-overflow') {
      // The listings the remedy prints, run in the container's namespace: the queue full and its counters rising there.
      const steps = readTsv(path.join(dir, 'applied-192.0.2.30.tsv'));
      const output = (prefix: string) => fs.readFileSync(path.join(dir, `step-192.0.2.30-${steps.findIndex((st) => st.kind === 'ctr' && st.command.startsWith(prefix)) + 1}.out`), 'utf8');
      assert.match(output('app ss -ltn'), /^LISTEN\s+2\s+1\s+0\.0\.0\.0:8080\s/m, 'Recv-Q 2 waiting for accept(), backlog 1');
      assert.match(output('app nstat'), /^TcpExtListenOverflows\s+[1-9]\d*\s/m);
    }
    t.diagnostic(`${s.name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
