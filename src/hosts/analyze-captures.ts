import { analyzeFiles, type Analysis, type AnalyzeOptions } from '../analysis';
import { distinctFiles, fileKey, repeatedFileWarning, type RepeatedFile } from '../capture/distinct-files';
import { ErrorCode, SynscopeError } from '../errors';
import { hasRfc3339 } from '../time/rfc3339';
import { analyzeHosts, type HostInput } from './analyze-hosts';

/** Analysis options plus, for captures of several hosts, which files and context belong to which host. */
export interface CaptureAnalysisOptions extends AnalyzeOptions {
  hosts?: readonly HostInput[];
}

/**
 * Analyze capture files: as one host, or, when hosts are given, each host's files with
 * its own context and the hosts together. Every file must then belong to exactly one
 * host; files named only in a host's list are analyzed too. A file named twice (by the
 * same path or another name of it) is read once, with a warning.
 */
export function analyzeCaptures(files: readonly string[], options: CaptureAnalysisOptions = {}): Analysis {
  const hosts = options.hosts;
  if (hosts === undefined || hosts.length === 0) {
    const { files: once, repeated } = distinctFiles(files);
    return withInputWarnings(analyzeFiles(once, options), repeated);
  }
  const owner = new Map<string, string>();
  const repeated: RepeatedFile[] = [];
  const distinctHosts = hosts.map((h) => {
    const d = distinctFiles(h.files);
    repeated.push(...d.repeated);
    for (const f of d.files) {
      const key = fileKey(f) ?? f;
      const other = owner.get(key);
      if (other !== undefined && other !== h.name) throw new SynscopeError(ErrorCode.BAD_USAGE, `${f} is given to both --host ${other} and --host ${h.name}`);
      owner.set(key, h.name);
    }
    return { ...h, files: d.files };
  });
  const stray = files.filter((f) => !owner.has(fileKey(f) ?? f));
  if (stray.length > 0) {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `with --host, every capture must belong to a host; not assigned: ${stray.join(', ')} (add it to a --host NAME=FILE list)`);
  }
  return withInputWarnings(analyzeHosts(distinctHosts, options), repeated);
}

/** Add the warnings about the inputs themselves: files read once though named twice, capture clocks no time can show. */
function withInputWarnings(a: Analysis, repeated: readonly RepeatedFile[]): Analysis {
  const outOfRange = a.flows.filter((f) => !hasRfc3339(f.firstSeen) || !hasRfc3339(f.lastSeen)).length;
  const warnings = [
    ...repeated.map(repeatedFileWarning),
    ...(outOfRange === 0
      ? []
      : [`${outOfRange} flow${outOfRange === 1 ? ' has' : 's have'} capture times outside years 0001..9999, shown as null: the capture's clock (pcapng if_tsoffset, if_tsresol or the timestamps) is wrong`]),
  ];
  return warnings.length === 0 ? a : { ...a, warnings: [...warnings, ...a.warnings] };
}
