import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeEdited, type EditedFinding } from './scenario-edit';

/** A stored real-Docker scenario analyzed with its iptables-save text changed by `edit`: its one finding. */
async function analyzeWith(scenario: string, edit: (iptables: string) => string): Promise<EditedFinding> {
  const { findings } = await analyzeEdited<{ natRules: { iptables: string } }>(scenario, (ctx) => {
    ctx.natRules.iptables = edit(ctx.natRules.iptables);
  });
  assert.equal(findings.length, 1, JSON.stringify(findings.map((f) => f.code)));
  return findings[0]!;
}

/** ufw's FORWARD jumps and chains, as a running ufw 0.36 writes them (its before-forward rules abridged), added to an iptables-save text's filter table. */
function withUfw(iptables: string): string {
  const chains = ['ufw-before-logging-forward', 'ufw-before-forward', 'ufw-after-forward', 'ufw-after-logging-forward', 'ufw-reject-forward', 'ufw-track-forward'];
  const running = ':ufw-user-forward - [0:0]\n-A ufw-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A ufw-before-forward -j ufw-user-forward\n';
  return iptables.replace(/^(\*filter\n)([\s\S]*?)^COMMIT$/m, (_all, head: string, body: string) =>
    head + chains.map((c) => `:${c} - [0:0]\n`).join('') + body + chains.map((c) => `-A FORWARD -j ${c}\n`).join('') + running + 'COMMIT');
}

/** What `ufw disable` leaves until the next boot: the jumps and the chains, emptied, its user chains deleted. */
function ufwDisabled(iptables: string): string {
  return iptables
    .split('\n')
    .filter((l) => !/^-A ufw-/.test(l) && !/^:ufw6?-user-/.test(l) && !/^:ufw-skip-to-policy-/.test(l))
    .join('\n');
}

/** The same text with every ufw chain and jump taken out. */
function withoutUfw(iptables: string): string {
  return iptables.split('\n').filter((l) => !/ufw-/.test(l)).join('\n');
}

test('a router\'s FORWARD policy DROP with ufw\'s chains in FORWARD is ufw\'s, and its remedy is a ufw route rule', async () => {
  const f = await analyzeWith('docker-real-ufw-forward', (t) => t);
  assert.equal(f.evidence.forwardPolicyOf, 'ufw');
  assert.equal(f.evidence.dockerForwardPolicy, undefined);
  assert.match(f.explanation, /That policy is ufw's/);
  assert.equal(f.remedy[0], 'Allow this forwarding in ufw, which keeps its rules across restarts: ufw route allow in on eth1 out on eth0.');
});

test('the same drop without ufw\'s chains is Docker\'s policy, with Docker\'s DOCKER-USER remedy', async () => {
  const f = await analyzeWith('docker-real-ufw-forward', withoutUfw);
  assert.equal(f.evidence.forwardPolicyOf, 'docker');
  assert.equal(f.remedy[0], 'Accept this forwarding in DOCKER-USER, where Docker leaves rules alone: iptables -I DOCKER-USER -i eth1 -o eth0 -j ACCEPT.');
});

test('a VM bridge\'s frames meeting ufw\'s policy get ufw\'s route rule for the bridge, not Docker\'s story', async () => {
  const docker = await analyzeWith('docker-real-vm-bridge', (t) => t);
  assert.equal(docker.evidence.forwardPolicyOf, 'docker');
  const ufw = await analyzeWith('docker-real-vm-bridge', withUfw);
  assert.deepEqual([ufw.evidence.forwardPolicyOf, ufw.evidence.bridge, ufw.evidence.dockerBridge], ['ufw', 'br0', false]);
  assert.doesNotMatch(ufw.explanation, /dockerd sets it/);
  assert.equal(ufw.remedy[0], 'Allow this forwarding in ufw, which keeps its rules across restarts: ufw route allow in on br0 out on br0.');
});

test('a container dialling the host, dropped by ufw\'s INPUT policy, gets ufw\'s allow rule first; without ufw\'s chains, the iptables accept', async () => {
  const ufw = await analyzeWith('docker-real-ufw-input', (t) => t);
  assert.equal(ufw.evidence.inputPolicyOf, 'ufw');
  assert.deepEqual(ufw.remedy, [
    'Allow it in ufw, which keeps its rules across restarts: ufw allow in on docker0 from 172.17.0.0/16 to any port 8000 proto tcp.',
    'Or, until the host restarts: iptables -I INPUT -i docker0 -s 172.17.0.0/16 -d 172.17.0.1 -p tcp --dport 8000 -j ACCEPT.',
  ]);
  const plain = await analyzeWith('docker-real-ufw-input', withoutUfw);
  assert.equal(plain.evidence.inputPolicyOf, undefined);
  assert.equal(plain.remedy[0], 'Accept this traffic before the drop: iptables -I INPUT -i docker0 -s 172.17.0.0/16 -d 172.17.0.1 -p tcp --dport 8000 -j ACCEPT.');
});

test('ufw disabled (its chains emptied, its user chains gone, the jumps left until reboot): the policy is not called ufw\'s', async () => {
  const routed = await analyzeWith('docker-real-ufw-forward', ufwDisabled);
  assert.equal(routed.evidence.forwardPolicyOf, 'docker');
  const input = await analyzeWith('docker-real-ufw-input', ufwDisabled);
  assert.equal(input.evidence.inputPolicyOf, undefined);
  assert.match(input.remedy[0]!, /^Accept this traffic before the drop: iptables -I INPUT /);
});

test('ufw\'s skip-to-policy DROP (ports ufw never logs) is its policy; a ufw deny gets an allow inserted before it, not an iptables -D that ufw restores', async () => {
  const skip = await analyzeWith('docker-real-ufw-input', (t) => t.replace(/^(-A ufw-after-input .*)$/m, '-A ufw-after-input -p tcp -m tcp --dport 8000 -j ufw-skip-to-policy-input\n$1'));
  assert.equal(skip.evidence.inputVerdictBy, '-A ufw-skip-to-policy-input -j DROP');
  assert.equal(skip.evidence.inputPolicyOf, 'ufw');
  assert.match(skip.remedy[0]!, /^Allow it in ufw, .*: ufw allow in on docker0 from 172\.17\.0\.0\/16 to any port 8000 proto tcp\.$/);
  const deny = await analyzeWith('docker-real-ufw-input', (t) => t.replace(/^(-A ufw-user-input .*)$/m, '-A ufw-user-input -s 172.17.0.0/16 -p tcp -m tcp --dport 8000 -j DROP\n$1'));
  assert.match(deny.remedy[0]!, /ufw insert 1 allow in on docker0 from 172\.17\.0\.0\/16 to any port 8000 proto tcp\.$/);
  assert.ok(!deny.remedy.some((l) => l.includes('iptables -D')), 'ufw restores what iptables deletes from its chains');
});
