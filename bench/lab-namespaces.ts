import { spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

/** Pieces the namespace benchmarks (load.ts, watch-soak.ts) share: their labs' cleanup and their children's. */

/** Deletes the namespaces that exist of `names` (and with them their veths); never throws. */
export function removeNamespaces(names: readonly string[]): void {
  for (const ns of names) {
    if (fs.existsSync(`/run/netns/${ns}`)) spawnSync('ip', ['netns', 'del', ns], { timeout: 30_000 });
  }
}

/**
 * Namespaces left by an earlier run that was killed outright: those whose name `pattern`
 * matches with the owner's pid as its first group, and that pid is gone.
 */
export function removeStaleNamespaces(pattern: RegExp, log: (s: string) => void): void {
  let names: string[] = [];
  try {
    names = fs.readdirSync('/run/netns');
  } catch {
    return;
  }
  for (const name of names) {
    const pid = pattern.exec(name)?.[1];
    if (pid !== undefined && !fs.existsSync(`/proc/${pid}`)) {
      log(`removing stale namespace ${name}`);
      spawnSync('ip', ['netns', 'del', name], { timeout: 30_000 });
    }
  }
}

/** Signals a detached child's whole process group (ip netns exec and what it runs). */
export function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
}

/** Runs `cleanup` when the process exits, and on SIGINT or SIGTERM (then exits 130), so a lab never outlives its run. */
export function cleanUpOnExit(cleanup: () => void, log: (s: string) => void): void {
  const onSignal = (): void => {
    log('interrupted: removing the lab');
    cleanup();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', cleanup);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `ok` every 50 ms; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}
