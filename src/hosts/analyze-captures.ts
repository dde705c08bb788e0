import * as path from 'node:path';
import { analyzeFiles, type Analysis, type AnalyzeOptions } from '../analyze';
import { ErrorCode, SynscopeError } from '../errors';
import { analyzeHosts, type HostInput } from './analyze-hosts';

/** Analysis options plus, for captures of several hosts, which files and context belong to which host. */
export interface CaptureAnalysisOptions extends AnalyzeOptions {
  hosts?: readonly HostInput[];
}

/**
 * Analyze capture files: as one host, or, when hosts are given, each host's files with
 * its own context and the hosts together. Every file must then belong to exactly one
 * host; files named only in a host's list are analyzed too.
 */
export function analyzeCaptures(files: readonly string[], options: CaptureAnalysisOptions = {}): Analysis {
  const hosts = options.hosts;
  if (hosts === undefined || hosts.length === 0) return analyzeFiles(files, options);
  const owner = new Map<string, string>();
  for (const h of hosts) {
    for (const f of h.files) {
      const other = owner.get(path.resolve(f));
      if (other !== undefined && other !== h.name) throw new SynscopeError(ErrorCode.BAD_USAGE, `${f} is given to both --host ${other} and --host ${h.name}`);
      owner.set(path.resolve(f), h.name);
    }
  }
  const stray = files.filter((f) => !owner.has(path.resolve(f)));
  if (stray.length > 0) {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `with --host, every capture must belong to a host; not assigned: ${stray.join(', ')} (add it to a --host NAME=FILE list)`);
  }
  return analyzeHosts(hosts, options);
}
