import { Command, CommanderError } from 'commander';
import { isSynscopeError } from '../errors';
import { analyzeCommand } from './commands/analyze';
import { contextCommand } from './commands/context';
import { liveCommand } from './commands/live';
import { testCommand } from './commands/test';
import { processIo, type CliIo } from './io';

const VERSION = '0.1.0';

/** Build the commander program; it never exits the process (exitOverride), so tests can drive it. */
export function createProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('synscope')
    .description('Explains silent TCP connection failures on Docker hosts: SYNs that got no SYN-ACK, and why.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  program.addCommand(analyzeCommand(io, setExit));
  program.addCommand(liveCommand(io, setExit));
  program.addCommand(contextCommand(io, setExit));
  program.addCommand(testCommand(io, setExit));
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return program;
}

/**
 * Run the CLI; resolves to the exit code. The only place that turns errors into
 * messages: a known error is one line and exit 2, never a stack trace.
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  const program = createProgram(io, (c) => (exitCode = c));
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    }
    if (isSynscopeError(e)) {
      io.stderr(`synscope: ${e.oneLine()}\n`);
      return 2;
    }
    const detail = process.env['SYNSCOPE_DEBUG'] ? `\n${(e as Error).stack}` : ' (set SYNSCOPE_DEBUG=1 for details)';
    io.stderr(`synscope: internal error: ${(e as Error).message ?? String(e)}${detail}\n`);
    return 3;
  }
}
