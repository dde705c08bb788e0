import * as fs from 'node:fs';

/** Where the CLI writes; tests pass their own to drive the program in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress is shown only then). */
  stderrIsTTY: boolean;
  /** The terminal behind stdout and stderr, if any: the text report fits its width and colours severities there. */
  stdoutTerminal?: { isTTY?: boolean; columns?: number };
  stderrTerminal?: { isTTY?: boolean; columns?: number };
}

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stderrIsTTY: process.stderr.isTTY === true,
  stdoutTerminal: process.stdout,
  stderrTerminal: process.stderr,
};

/**
 * Install on the real process only (bin/synscope.js): when whoever reads stdout or stderr
 * has gone (`synscope analyze ... --json | head -1`), end at once and quietly with exit 0,
 * as `tcpdump | head` does; any other write error (a full disk) is one line and exit 2.
 */
export function endOnClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      try {
        fs.writeSync(2, `synscope: cannot write ${stream === process.stdout ? 'stdout' : 'stderr'}: ${e.message} [ERR_WRITE_FAILED]\n`);
      } finally {
        process.exit(2);
      }
    });
  }
}
