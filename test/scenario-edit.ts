import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, runCli } from './cli-harness';

export interface EditedFinding { code: string; confidence: string; explanation: string; evidence: Record<string, unknown>; remedy: string[] }

/**
 * A stored scenario's capture (captures/NAME/capture.pcapng) analyzed with its context.json
 * changed by `edit` (written to a temp file): the report's findings and warnings.
 */
export async function analyzeEdited<C>(scenario: string, edit: (ctx: C) => void): Promise<{ findings: EditedFinding[]; warnings: string[] }> {
  const dir = path.join(REPO, 'captures', scenario);
  const context = JSON.parse(fs.readFileSync(path.join(dir, 'context.json'), 'utf8')) as C;
  edit(context);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-${scenario}-`));
  try {
    const file = path.join(tmp, 'context.json');
    fs.writeFileSync(file, JSON.stringify(context));
    const r = await runCli('analyze', path.join(dir, 'capture.pcapng'), '--context', file, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { findings: EditedFinding[]; warnings: string[] };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
