import { Command } from 'commander';
import { runScenarios } from '../../regress/run-scenarios';
import { toScenarioRunJson } from '../../report/scenarios-json';
import { renderScenarioRun } from '../../report/scenarios-text';
import { analyzeOptionsFromFlags, parseAnalyzeArgs } from '../analyze-options';
import type { CliIo } from '../io';

const EXAMPLES = `
Examples:
  $ synscope test                                  # every scenario under ./captures
  $ synscope test ~/incidents --scenario redis     # your own incident folder; names containing "redis"
  $ synscope test captures --update && git diff captures/   # rewrite expectations, then review them
  $ synscope test --json | jq '.scenarios[] | select(.passed == false)'

Layout: DIR/NAME/ (at any depth) holds the capture (.pcap or .pcapng; several are merged
by time), expect.json and, when needed, context.json. expect.json lists the handshake
summary, flow counts per state and the findings with their key evidence; its "args" are
analyze flags, e.g. ["--context", "context.json"], with file names beside the capture.
A new folder gets its expect.json from --update (using context.json when present).

Exit codes: 0 every scenario passed (or --update wrote its files), 1 a mismatch, a scenario
without expect.json, or no scenario found, 2 bad usage or DIR unreadable.`;

interface TestFlags {
  update?: boolean;
  json?: boolean;
  scenario?: string;
}

/** `synscope test`: replay stored scenarios and check every expected verdict still comes out. */
export function testCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('test')
    .description('replay stored captures (captures/NAME/) and check that each still gets the verdicts in its expect.json')
    .argument('[dir]', 'folder holding the scenario folders', 'captures')
    .option('--update', 'rewrite each expect.json that no longer matches from the current output (keeps its args), and print what changed')
    .option('--json', 'print the synscope.test/1 JSON document instead of diffs and a table')
    .option('--scenario <NAME>', 'run only the scenarios whose name contains NAME (analyze\'s -f/--filter is a packet filter)')
    .addHelpText('after', EXAMPLES)
    .action((dir: string, flags: TestFlags) => {
      const run = runScenarios(dir, {
        filter: flags.scenario,
        update: flags.update === true,
        analyzeOptions: (args) => analyzeOptionsFromFlags(parseAnalyzeArgs(args)),
      });
      if (flags.json === true) io.stdout(`${JSON.stringify(toScenarioRunJson(run), null, 2)}\n`);
      else if (run.results.length > 0) io.stdout(renderScenarioRun(run));
      if (run.found === 0) {
        io.stderr(`synscope: no scenarios under ${dir}: a scenario is a folder holding a .pcap or .pcapng capture and its expect.json\n`);
      } else if (run.results.length === 0) {
        io.stderr(`synscope: no scenario name contains "${flags.scenario}" (${run.found} scenario${run.found === 1 ? '' : 's'} under ${dir})\n`);
      }
      const failed = run.results.length === 0 || run.results.some((r) => r.status === 'failed');
      setExit(failed ? 1 : 0);
    });
}
