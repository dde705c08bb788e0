import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import { loadHostContext } from '../src/context/load';
import { REPO } from './cli-harness';
import { perInterfaceFiles } from './capture-cut';
import { multiInterfaceScenarios } from './stored-scenarios';

/** Seconds after the capture's first SYN that the late tcpdump starts: past the first SYN, before the retransmission at 3 s. */
const LATE = 1.5;

/**
 * Two terminals, two tcpdumps, the second started a moment later: it misses an attempt's first
 * SYN and sees its retransmissions. Every stored multi-interface scenario, cut into one classic
 * pcap per interface with one of them (or, with three or more, all but one) started LATE
 * seconds after the first SYN, must count
 * no attempt twice and give no client more error findings than the whole capture does (an
 * attempt whose hops could not be stitched by their first SYN made one error per hop).
 */
test('each stored multi-interface scenario, one tcpdump started late: no attempt counted twice, no client with more errors than the whole capture gives it', () => {
  let checked = 0;
  for (const { name, capture, options, whole } of multiInterfaceScenarios({ allFlows: true })) {
    const firstSyn = Math.min(...whole.flows.map((f) => f.firstSynAt ?? Infinity));
    const errorsPerClient = (a: typeof whole) => {
      const n = new Map<string, number>();
      for (const f of a.findings.filter((x) => x.severity === 'error')) for (const c of (f.evidence['clients'] as string[] | undefined) ?? []) n.set(c, (n.get(c) ?? 0) + 1);
      return n;
    };
    const wholeErrors = errorsPerClient(whole);
    const files = whole.interfaceNames.length;
    // File k late, or every file but k late (three terminals, one started first).
    for (let variant = 0; variant < (files > 2 ? 2 * files : files); variant++) {
      const late = variant % files;
      const which = variant < files ? `file ${late + 1}` : `all but file ${late + 1}`;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-late-${name}-`));
      try {
        const startedAt: number[] = [];
        if (variant < files) startedAt[late] = firstSyn + LATE;
        else for (let i = 0; i < files; i++) if (i !== late) startedAt[i] = firstSyn + LATE;
        const cut = analyzeFiles(perInterfaceFiles(capture, dir, Infinity, startedAt), options);
        for (const [client, n] of errorsPerClient(cut)) {
          assert.ok(n <= (wholeErrors.get(client) ?? 0) || n === 1, `${name}, ${which} late: ${n} errors name ${client} (the whole capture: ${wholeErrors.get(client) ?? 0}): ${cut.findings.map((f) => f.title).join(' | ')}`);
        }
        // Attempts over before the late tcpdump began, on its interface alone, are not in the cut: fewer, never more.
        assert.ok(cut.summary.handshakes.attempted <= whole.summary.handshakes.attempted, `${name}, ${which} late: ${cut.summary.handshakes.attempted} attempts, the whole capture ${whole.summary.handshakes.attempted}`);
        checked++;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  assert.ok(checked >= 60, `${checked} cuts checked`);
});

test("a late tcpdump on a VM host's bridge port that never shows the host's MAC: no 'reached capture1 but never br0, where the host's routes send it' for a frame between two machines of br0's own subnet", () => {
  const dir = path.join(REPO, 'captures', 'docker-real-vm-bridge');
  const context = loadHostContext(path.join(dir, 'context.json'));
  const options = { context, bridges: bridgesFromContext(context), kernel: context.kernelEvidence ?? null };
  const whole = analyzeFiles([path.join(dir, 'capture.pcapng')], { ...options, allFlows: true });
  const firstSyn = Math.min(...whole.flows.map((f) => f.firstSynAt ?? Infinity));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-late-vm-bridge-'));
  try {
    const cut = analyzeFiles(perInterfaceFiles(path.join(dir, 'capture.pcapng'), tmp, Infinity, [firstSyn + LATE]), options);
    assert.ok(cut.interfaceNames.includes('capture1'), `eth0's late file stays unnamed: ${cut.interfaceNames.join(', ')}`);
    const errors = cut.findings.filter((f) => f.severity === 'error');
    assert.deepEqual(errors.map((f) => [f.code, f.evidence['clients']]), [['filtered', ['192.0.2.10']]], errors.map((f) => f.title).join(' | '));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a late tcpdump of either side of a masquerade: the container\'s flow and this host\'s are one attempt, in NAT order, and the whole capture\'s verdict comes back (DOCKER-USER drops the SYN-ACKs coming back by eth0)', () => {
  const dir = path.join(REPO, 'captures', 'docker-real-docker-user-replies');
  const context = loadHostContext(path.join(dir, 'context.json'));
  const options = { context, bridges: bridgesFromContext(context), kernel: context.kernelEvidence ?? null };
  const whole = analyzeFiles([path.join(dir, 'capture.pcapng')], { ...options, allFlows: true });
  const firstSyn = Math.min(...whole.flows.map((f) => f.firstSynAt ?? Infinity));
  for (const late of [0, 1]) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-late-replies-'));
    try {
      const startedAt: number[] = [];
      startedAt[late] = firstSyn + LATE;
      const cut = analyzeFiles(perInterfaceFiles(path.join(dir, 'capture.pcapng'), tmp, Infinity, startedAt), options);
      const errors = cut.findings.filter((f) => f.severity === 'error');
      assert.deepEqual(errors.map((f) => [f.code, f.confidence, f.evidence['clients']]), [['nat-path-break', 'high', ['172.17.0.3']]], `file ${late + 1} late: ${errors.map((f) => f.title).join(' | ')}`);
      assert.match(errors[0]!.title, /a DOCKER-USER rule drops the SYN-ACKs coming back by eth0$/);
      assert.deepEqual(cut.attempts.map((a) => a.hops.map((h) => h.interface)), [['docker0', 'eth0']], 'the container\'s hop first');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
});
