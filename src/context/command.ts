import { execFile } from 'node:child_process';

/** What running a host tool gave: its stdout, or why there is none. */
export type CommandOutcome =
  | { readonly ok: true; readonly stdout: string }
  /** `missing` is set when the tool itself does not exist (ENOENT). */
  | { readonly ok: false; readonly reason: string; readonly missing?: boolean };

/** Runs a tool with arguments (no shell). Injected so tests can replay recorded outputs. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandOutcome>;

/** Reads a whole text file, or null when it does not exist or cannot be read. */
export type FileReader = (path: string) => string | null;

/** Default time limit for one host tool: `ip`, `iptables-save` and `nft` answer in milliseconds. */
export const COMMAND_TIMEOUT_MS = 5000;

/**
 * Run a real command with a time limit. A missing tool, a non-zero exit or a timeout
 * become `{ ok: false, reason }` with a short reason, never an exception.
 */
export function runCommand(file: string, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    // Detached (a spawn option execFile passes on): a Ctrl-C meant for synscope live reaches
    // the terminal's whole process group and must not kill the snapshot's tools half-way;
    // the time limit still bounds them.
    const options = { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' as const, detached: true };
    execFile(file, [...args], options, (err, stdout, stderr) => {
      if (err === null) return resolve({ ok: true, stdout });
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
      if (e.code === 'ENOENT') return resolve({ ok: false, reason: `${file}: command not found`, missing: true });
      let reason: string;
      if (e.code === 'EACCES') reason = `${file}: permission denied`;
      else if (e.killed === true) reason = `${file}: no answer within ${timeoutMs / 1000} s`;
      else reason = `${file} exited with ${String(e.code)}: ${firstLine(stderr) || e.message}`;
      resolve({ ok: false, reason });
    });
  });
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}
