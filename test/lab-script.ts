import { spawnSync } from 'node:child_process';
import { labLeftovers } from './docker-lab-leftovers';

/**
 * Run a lab script (bash) to its end; when it fails, the error says what it printed, so a
 * failing lab test shows the lab's own words. `label` names the lab in that message. A lab
 * that exits without tearing itself down (namespaces, dockerd's directory or cgroups of its
 * LAB, ss<pid of the script>) fails too: an EXIT trap replaced by a later one did that unseen.
 */
export function runLabScript(label: string, script: string, args: string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv }): void {
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', timeout: options.timeoutMs, ...(options.env !== undefined && { env: options.env }) });
  if (r.status !== 0) throw new Error(`${label} failed (${r.error?.message ?? r.status ?? r.signal}):\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  const left = labLeftovers(`ss${r.pid}`);
  if (left.length > 0) throw new Error(`${label} left its lab behind:\n${left.join('\n')}\n${r.stderr}`);
}
