import { Command } from 'commander';
import { ErrorCode, SynscopeError } from '../../errors';
import { analyzeCaptures } from '../../hosts/analyze-captures';
import { atLeast } from '../../diagnose/finding';
import type { Flow } from '../../flow/flow';
import { flowEvent } from '../../report/ndjson';
import { formatWarnings, reportFormat, writeReport } from '../report-format';
import { addAnalyzeFlags, analyzeOptionsFromFlags, type AnalyzeFlags } from '../analyze-options';
import type { CliIo } from '../io';
import { ProgressLine } from '../progress';

const EXAMPLES = `
Examples:
  $ synscope analyze eth0.pcap
  $ synscope analyze eth0.pcap docker_gwbridge.pcapng --bridge docker_gwbridge=172.18.0.0/16
  $ synscope context --output host.json          # on the host, then analyze anywhere:
  $ synscope analyze capture.pcapng --context host.json
  $ synscope analyze capture.pcapng --json | jq '.findings[].code'
  $ synscope analyze capture.pcapng --format ndjson --all-flows | jq -c 'select(.type == "finding")'
  $ synscope analyze capture.pcap --fail-on error   # exit 1 when an error-level finding exists
  $ tcpdump -i eth0 -w - 'tcp or icmp or arp' | synscope analyze -    # from standard input
  $ synscope analyze -r capture.pcap.gz             # -r as in tcpdump; gzip is read as it is
  $ synscope analyze big.pcap -f 'port 8080 or icmp or icmp6 or arp'   # tcpdump's filter language
  $ synscope analyze --host node-a=a-eth0.pcap,a-docker0.pcap --host node-b=b.pcapng \
      --context node-a=node-a.json --context node-b=node-b.json      # several hosts together

Exit codes: 0 analysis ran, 1 a finding at or above --fail-on, 2 bad usage or unreadable input.`;

export function analyzeCommand(io: CliIo, setExit: (code: number) => void): Command {
  return addAnalyzeFlags(
    new Command('analyze')
      .description('explain the TCP handshakes in capture files: which SYNs got no answer, and why')
      .argument('[files...]', 'pcap or pcapng files, gzip-compressed or not; - is standard input (several files of one incident are merged by time; files named in --host lists may be left out here)')
      .option('-r, --read <FILE>', 'a capture file, as tcpdump -r and tshark -r take it (repeatable; the same as naming it)', (v: string, all: string[]) => [...all, v], []),
  )
    .addHelpText('after', EXAMPLES)
    .action((named: string[], flags: AnalyzeFlags & { read: string[] }) => {
      const files = [...flags.read, ...named];
      const progress = io.stderrIsTTY ? new ProgressLine(io) : null;
      const options = analyzeOptionsFromFlags(flags);
      const format = reportFormat(flags);
      const all = [...files, ...(options.hosts ?? []).flatMap((h) => h.files).filter((f) => !files.includes(f))];
      if (all.length === 0) throw new SynscopeError(ErrorCode.BAD_USAGE, 'analyze needs at least one capture file');
      // NDJSON with every flow: each flow goes out as it leaves the tracker, none is held.
      const stream = format === 'ndjson' && options.allFlows === true && (options.hosts ?? []).length === 0;
      const analysis = analyzeCaptures(all, {
        ...options,
        onProgress: progress ? (p) => progress.update(p) : undefined,
        ...(stream && { onFlow: (f: Flow, names: readonly string[]) => io.stdout(flowEvent(f, names)) }),
      });
      progress?.clear();
      writeReport(analysis, format, { write: io.stdout, terminal: io.stdoutTerminal }, stream);
      for (const w of [...analysis.warnings, ...formatWarnings(analysis, format)]) io.stderr(`synscope: warning: ${w}\n`);
      const failOn = flags.failOn;
      setExit(failOn !== undefined && analysis.findings.some((f) => atLeast(f.severity, failOn)) ? 1 : 0);
    });
}
