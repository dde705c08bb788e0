import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import { loadHostContext } from '../src/context/load';
import { renderText } from '../src/report/text';
import { REPO } from './cli-harness';
import { perInterfaceFiles } from './capture-cut';

/**
 * docker-real-masquerade-missing (a container's SYNs leave eth0 untranslated and are never
 * answered) as if its tcpdumps had been stopped some time after the failing attempt's first
 * SYN: a busy host's capture always ends with attempts whose answer has not come yet.
 */
function stoppedAfter(seconds: number) {
  const dir = path.join(REPO, 'captures', 'docker-real-masquerade-missing');
  const context = loadHostContext(path.join(dir, 'context.json'));
  const whole = analyzeFiles([path.join(dir, 'capture.pcapng')], { context, bridges: bridgesFromContext(context) });
  const failed = whole.flows.find((f) => f.outcome === 'unanswered')!;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-stopped-'));
  try {
    return analyzeFiles(perInterfaceFiles(path.join(dir, 'capture.pcapng'), tmp, failed.firstSynAt! + seconds), { context, bridges: bridgesFromContext(context) });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

test('an attempt whose first SYN came less than 1 s before the capture stopped is counted as unanswered but not diagnosed, and the report says why', () => {
  const a = stoppedAfter(0.5);
  assert.equal(a.summary.handshakes.unanswered, 1);
  assert.deepEqual(a.findings.filter((f) => f.severity === 'error'), []);
  assert.ok(a.warnings.some((w) => w.startsWith('1 unanswered attempt began less than 1 s before the capture ended')), a.warnings.join('\n'));
  assert.match(renderText(a), /Findings: none\. No failed attempt could be judged \(see the warnings\)\./);
});

test('once the client has had time to send its SYN again (1 s), the attempt is judged: the whole capture\'s verdict', () => {
  const a = stoppedAfter(1.5);
  assert.deepEqual(a.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.confidence]), [['nat-path-break', 'high']]);
  assert.ok(!a.warnings.some((w) => w.includes('before the capture ended')));
});
