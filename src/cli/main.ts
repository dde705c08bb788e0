import { Command, CommanderError } from 'commander';
import { isSynscopeError } from '../errors';
import { processIo, type CliIo } from './io';

type CommandFactory = (io: CliIo, setExit: (code: number) => void) => Command;

/**
 * Each command's module, loaded only when that command runs (or for the full help): loading
 * every command's code took about 80 ms of each run (fleet, live, watch and context bring
 * their own modules), a third of a small capture's analysis.
 */
const COMMANDS: Record<string, () => CommandFactory> = {
  analyze: () => (require('./commands/analyze') as typeof import('./commands/analyze')).analyzeCommand,
  live: () => (require('./commands/live') as typeof import('./commands/live')).liveCommand,
  context: () => (require('./commands/context') as typeof import('./commands/context')).contextCommand,
  test: () => (require('./commands/test') as typeof import('./commands/test')).testCommand,
  watch: () => (require('./commands/watch') as typeof import('./commands/watch')).watchCommand,
  fleet: () => (require('./commands/fleet') as typeof import('./commands/fleet')).fleetCommand,
  'fleet-node': () => (require('./commands/fleet') as typeof import('./commands/fleet')).fleetNodeCommand,
};
const HIDDEN_COMMANDS = new Set(['fleet-node']);

const VERSION = '0.1.0';

/**
 * Build the commander program; it never exits the process (exitOverride), so tests can drive
 * it. With `only` (the command named on the command line) just that command is built.
 */
export function createProgram(io: CliIo, setExit: (code: number) => void, only?: string): Command {
  const program = new Command('synscope')
    .description('Explains silent TCP connection failures on Docker hosts: SYNs that got no SYN-ACK, and why.')
    .version(VERSION)
    .exitOverride()
    .configureOutput(outputFor(io, 'synscope'));
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  for (const name of names) program.addCommand(COMMANDS[name]!()(io, setExit), { hidden: HIDDEN_COMMANDS.has(name) });
  for (const c of program.commands) c.exitOverride().configureOutput(outputFor(io, `synscope ${c.name()}`));
  return program;
}

/** Commander's usage errors as one line, like every other error: "synscope: unknown option '--x' (run synscope --help for usage)". */
function outputFor(io: CliIo, command: string) {
  return {
    writeOut: io.stdout,
    writeErr: io.stderr,
    outputError: (text: string, write: (t: string) => void) => write(`synscope: ${oneLine(text.replace(/^error: /, ''))} (run ${command} --help for usage)\n`),
  };
}

/** Text fit for one line of a terminal: control characters and line breaks become visible escapes or spaces. */
function oneLine(text: string): string {
  return text
    .trim()
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Run the CLI; resolves to the exit code. The only place that turns errors into
 * messages: a known error is one line and exit 2, never a stack trace.
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  if (argv.length <= 2) {
    io.stderr(`synscope: usage: synscope analyze|live|watch|fleet|context|test [options] (run synscope --help for usage)\n`);
    return 2;
  }
  const program = createProgram(io, (c) => (exitCode = c), argv[2]);
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    }
    if (isSynscopeError(e)) {
      io.stderr(`synscope: ${oneLine(e.oneLine())}\n`);
      return 2;
    }
    const detail = process.env['SYNSCOPE_DEBUG'] ? `\n${(e as Error).stack}` : ' (set SYNSCOPE_DEBUG=1 for details)';
    io.stderr(`synscope: internal error: ${oneLine((e as Error).message ?? String(e))}${detail}\n`);
    return 3;
  }
}
