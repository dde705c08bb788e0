import { execFileSync } from 'node:child_process';

/**
 * Run a lab script (bash) to its end; when it fails, the error says what it printed, so a
 * failing lab test shows the lab's own words. `label` names the lab in that message.
 */
export function runLabScript(label: string, script: string, args: string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv }): void {
  try {
    execFileSync('bash', [script, ...args], { stdio: 'pipe', timeout: options.timeoutMs, ...(options.env !== undefined && { env: options.env }) });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`${label} failed:\n${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`);
  }
}
