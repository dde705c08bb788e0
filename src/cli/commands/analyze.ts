import { Command, Option } from 'commander';
import { analyzeFiles } from '../../analyze';
import { parseBridgeFlag, type BridgeSubnet } from '../../context/bridge';
import { bridgesFromContext } from '../../context/context-bridges';
import { loadHostContext } from '../../context/load';
import { atLeast, SEVERITIES, type Severity } from '../../diagnose/finding';
import { writeReportJson } from '../../report/json';
import { renderText } from '../../report/text';
import type { CliIo } from '../io';
import { ProgressLine } from '../progress';

const EXAMPLES = `
Examples:
  $ synscope analyze eth0.pcap
  $ synscope analyze eth0.pcap docker_gwbridge.pcapng --bridge docker_gwbridge=172.18.0.0/16
  $ synscope context --output host.json          # on the host, then analyze anywhere:
  $ synscope analyze capture.pcapng --context host.json
  $ synscope analyze capture.pcapng --json | jq '.findings[].code'
  $ synscope analyze capture.pcap --fail-on error   # exit 1 when an error-level finding exists

Exit codes: 0 analysis ran, 1 a finding at or above --fail-on, 2 bad usage or unreadable input.`;

interface AnalyzeFlags {
  json?: boolean;
  allFlows?: boolean;
  bridge: BridgeSubnet[];
  context?: string;
  failOn?: Severity;
  zeekTimers?: boolean;
}

export function analyzeCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('analyze')
    .description('explain the TCP handshakes in capture files: which SYNs got no answer, and why')
    .argument('<files...>', 'pcap or pcapng files (several files of one incident are merged by time)')
    .option('--json', 'print the synscope.report/1 JSON document instead of tables')
    .option('--all-flows', 'list every TCP flow, not only the attempts that failed')
    .option('--context <FILE>', 'host facts written by `synscope context` on the host the capture comes from')
    .option('--bridge <NAME=CIDR>', 'a local bridge and its subnet, e.g. docker0=172.17.0.0/16 (repeatable; adds to --context)', collectBridge, [])
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding at or above this severity exists').choices(SEVERITIES))
    .option('--zeek-timers', "split flows with Zeek's 5 s attempt timer, to compare with Zeek's conn.log")
    .addHelpText('after', EXAMPLES)
    .action((files: string[], flags: AnalyzeFlags) => {
      const progress = io.stderrIsTTY ? new ProgressLine(io) : null;
      const context = flags.context === undefined ? undefined : loadHostContext(flags.context);
      const analysis = analyzeFiles(files, {
        bridges: context === undefined ? flags.bridge : bridgesFromContext(context, flags.bridge),
        context,
        allFlows: flags.allFlows === true,
        zeekTimers: flags.zeekTimers === true,
        onProgress: progress ? (p) => progress.update(p) : undefined,
      });
      progress?.clear();
      if (flags.json === true) {
        writeReportJson(analysis, io.stdout);
      } else {
        io.stdout(renderText(analysis));
      }
      for (const w of analysis.warnings) io.stderr(`synscope: warning: ${w}\n`);
      const failOn = flags.failOn;
      setExit(failOn !== undefined && analysis.findings.some((f) => atLeast(f.severity, failOn)) ? 1 : 0);
    });
}

function collectBridge(value: string, previous: BridgeSubnet[]): BridgeSubnet[] {
  return [...previous, parseBridgeFlag(value)];
}
