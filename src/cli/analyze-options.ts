import { Command, CommanderError, Option } from 'commander';
import type { AnalyzeOptions } from '../analyze';
import { parseBridgeFlag, type BridgeSubnet } from '../context/bridge';
import { bridgesFromContext } from '../context/context-bridges';
import { loadHostContext } from '../context/load';
import { SEVERITIES, type Severity } from '../diagnose/finding';
import { ErrorCode, SynscopeError } from '../errors';

/** The flags of `synscope analyze`, as commander hands them over. */
export interface AnalyzeFlags {
  json?: boolean;
  allFlows?: boolean;
  bridge: BridgeSubnet[];
  context?: string;
  failOn?: Severity;
  zeekTimers?: boolean;
}

/**
 * Declare the analyze flags on a command. `synscope analyze` uses it, and so does
 * `synscope test` to read a scenario's expect.json `args`, so both understand the
 * same arguments the same way.
 */
export function addAnalyzeFlags(command: Command): Command {
  return addReportFlags(command.option('--context <FILE>', 'host facts written by `synscope context` on the host the capture comes from')).option(
    '--zeek-timers',
    "split flows with Zeek's 5 s attempt timer, to compare with Zeek's conn.log",
  );
}

/** The report flags `synscope analyze` and `synscope live` share. */
export function addReportFlags(command: Command): Command {
  return command
    .option('--json', 'print the synscope.report/1 JSON document instead of tables')
    .option('--all-flows', 'list every TCP flow, not only the attempts that failed')
    .option('--bridge <NAME=CIDR>', 'a local bridge and its subnet, e.g. docker0=172.17.0.0/16 (repeatable; adds to the host context)', collectBridge, [])
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding at or above this severity exists').choices(SEVERITIES));
}

/**
 * Turn analyze flags into analysis options: load the --context snapshot (throws
 * SynscopeError naming the file) and add its bridges after the --bridge ones.
 */
export function analyzeOptionsFromFlags(flags: AnalyzeFlags): AnalyzeOptions {
  const context = flags.context === undefined ? undefined : loadHostContext(flags.context);
  return {
    bridges: context === undefined ? flags.bridge : bridgesFromContext(context, flags.bridge),
    context,
    kernel: context?.kernelEvidence ?? null,
    allFlows: flags.allFlows === true,
    zeekTimers: flags.zeekTimers === true,
  };
}

/**
 * Parse analyze arguments given as a list (a scenario's expect.json `args`, with
 * file names already resolved) into analyze flags. Only flags are allowed: the
 * captures are the files of the scenario folder. Throws SynscopeError ERR_BAD_USAGE.
 */
export function parseAnalyzeArgs(args: readonly string[]): AnalyzeFlags {
  let message = '';
  const parser = addAnalyzeFlags(new Command('analyze'))
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: (t) => (message += t) })
    .helpOption(false)
    .allowExcessArguments(true);
  try {
    parser.parse([...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    throw new SynscopeError(ErrorCode.BAD_USAGE, `analyze arguments ${JSON.stringify(args)}: ${(message || e.message).trim().replace(/^error: /, '')}`);
  }
  if (parser.args.length > 0) {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `analyze arguments ${JSON.stringify(args)}: only flags are allowed, not ${JSON.stringify(parser.args)}`);
  }
  return parser.opts<AnalyzeFlags>();
}

function collectBridge(value: string, previous: BridgeSubnet[]): BridgeSubnet[] {
  return [...previous, parseBridgeFlag(value)];
}
