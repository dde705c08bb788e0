import { Command, CommanderError, Option } from 'commander';
import { parseHostFlag, splitHostContext, type HostFiles } from '../hosts/host-spec';
import type { CaptureAnalysisOptions } from '../hosts/analyze-captures';
import { parseBridgeFlag, type BridgeSubnet } from '../context/bridge';
import { bridgesFromContext } from '../context/context-bridges';
import { loadHostContext } from '../context/load';
import { REPORT_FORMATS, type ReportFormat } from './report-format';
import { SEVERITIES, type Severity } from '../diagnose/finding';
import { ErrorCode, SynscopeError } from '../errors';

/** The flags of `synscope analyze`, as commander hands them over. */
export interface AnalyzeFlags {
  json?: boolean;
  format?: ReportFormat;
  allFlows?: boolean;
  bridge: BridgeSubnet[];
  context: string[];
  netnsContext?: string[];
  filter?: string;
  host: HostFiles[];
  failOn?: Severity;
  zeekTimers?: boolean;
}

/**
 * Declare the analyze flags on a command. `synscope analyze` uses it, and so does
 * `synscope test` to read a scenario's expect.json `args`, so both understand the
 * same arguments the same way.
 */
export function addAnalyzeFlags(command: Command): Command {
  return addReportFlags(
    command
      .option('--context <[HOST=]FILE>', 'host facts written by `synscope context` on the host the capture comes from (with --host: HOST=FILE, repeatable)', collect, [])
      .option('--host <NAME=FILE[,FILE...]>', 'captures of several hosts: which files were taken on host NAME (repeatable)', collectHost, [])
      .option('-f, --filter <EXPR>', "tcpdump's filter on the packets read (pcap-filter(7), compiled by libpcap): only what it keeps is analyzed; keep 'or icmp or icmp6 or arp' in it for the evidence")
      .option('--netns-context <FILE>', 'a snapshot of another namespace of the host (`synscope context --netns NS`: a container, ingress_sbox): a DNATed SYN\'s reply is simulated over the routes of the one holding its target (repeatable)', collect, []),
  ).option('--zeek-timers', "split flows with Zeek's 5 s attempt timer, to compare with Zeek's conn.log");
}

/** The report flags `synscope analyze` and `synscope live` share. */
export function addReportFlags(command: Command): Command {
  return command
    .option('--json', 'print the synscope.report/2 JSON document instead of tables (= --format json)')
    .addOption(new Option('--format <format>', 'text (tables), json (synscope.report/2), ndjson (one synscope.events/1 event per line; with --all-flows each flow is written as it leaves the tracker), markdown (a summary for a ticket), conn (a Zeek conn.log of the failed attempts; with --all-flows of every flow) or html (one self-contained page with the findings, SVG ladders and a timeline: --format html > report.html)').choices(REPORT_FORMATS))
    .option('--all-flows', 'list every TCP flow, not only the attempts that failed')
    .option('--bridge <NAME=CIDR>', 'a local bridge and its subnet, e.g. docker0=172.17.0.0/16 (repeatable; adds to the host context)', collectBridge, [])
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding at or above this severity exists').choices(SEVERITIES));
}

/**
 * Turn analyze flags into analysis options: load the --context snapshot (throws
 * SynscopeError naming the file) and add its bridges after the --bridge ones.
 */
export function analyzeOptionsFromFlags(flags: AnalyzeFlags): CaptureAnalysisOptions {
  const common = { allFlows: flags.allFlows === true, zeekTimers: flags.zeekTimers === true, ...(flags.filter !== undefined && { filter: flags.filter }), namespaceContexts: (flags.netnsContext ?? []).map((f) => loadHostContext(f)) };
  const hostNames = flags.host.map((h) => h.name);
  if (new Set(hostNames).size !== hostNames.length) throw new SynscopeError(ErrorCode.BAD_USAGE, `--host names must differ: ${hostNames.join(', ')}`);
  const contexts = flags.context.map((c) => splitHostContext(c, hostNames));
  if (flags.host.length > 0) {
    const plain = contexts.find((c) => c.host === null);
    if (plain !== undefined) {
      const eq = plain.file.indexOf('=');
      const unknown = eq > 0 ? `unknown host "${plain.file.slice(0, eq)}" in --context ${plain.file}` : `--context ${plain.file} names no host`;
      throw new SynscopeError(ErrorCode.BAD_USAGE, `${unknown}: with --host, give each snapshot as --context HOST=FILE, HOST one of ${hostNames.join(', ')}`);
    }
    const twice = hostNames.find((h) => contexts.filter((c) => c.host === h).length > 1);
    if (twice !== undefined) throw new SynscopeError(ErrorCode.BAD_USAGE, `--context ${twice}=... is given more than once`);
    return {
      ...common,
      bridges: flags.bridge,
      hosts: flags.host.map((h) => {
        const file = contexts.find((c) => c.host === h.name)?.file;
        return { name: h.name, files: h.files, context: file === undefined ? null : loadHostContext(file) };
      }),
    };
  }
  if (contexts.length > 1) throw new SynscopeError(ErrorCode.BAD_USAGE, 'one --context per analysis; for captures of several hosts, name them with --host NAME=FILE and give --context NAME=FILE');
  const context = contexts.length === 0 ? undefined : loadHostContext(contexts[0]!.file);
  return {
    ...common,
    bridges: context === undefined ? flags.bridge : bridgesFromContext(context, flags.bridge),
    context,
    kernel: context?.kernelEvidence ?? null,
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

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function collectHost(value: string, previous: HostFiles[]): HostFiles[] {
  return [...previous, parseHostFlag(value)];
}

function collectBridge(value: string, previous: BridgeSubnet[]): BridgeSubnet[] {
  return [...previous, parseBridgeFlag(value)];
}
