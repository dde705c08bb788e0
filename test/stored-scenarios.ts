import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeFiles, type Analysis, type AnalyzeOptions } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import type { HostContext } from '../src/context/host-context';
import { loadHostContext } from '../src/context/load';
import { resolveScenarioArgs } from '../src/regress/expectation';
import { findScenarios } from '../src/regress/find-scenarios';
import { REPO } from './cli-harness';

/** A stored scenario of one host captured in one pcapng on several interfaces, with its snapshot. */
export interface MultiInterfaceScenario {
  name: string;
  capture: string;
  context: HostContext;
  /** The analysis options the scenario's expectations use: its snapshot and the bridges it holds. */
  options: AnalyzeOptions;
  /** The whole capture analyzed with `options` (and `extra`). */
  whole: Analysis;
}

/**
 * The stored scenarios the capture-cut tests re-cut the way operators capture: one host's
 * pcapng with a host context (`--context`), over two or more interfaces. `extra` is added to
 * the options of the whole capture's analysis (allFlows, to see every flow's first SYN).
 */
export function* multiInterfaceScenarios(extra: AnalyzeOptions = {}): Generator<MultiInterfaceScenario> {
  for (const sc of findScenarios(path.join(REPO, 'captures'))) {
    const expect = JSON.parse(fs.readFileSync(sc.expectFile!, 'utf8')) as { args?: string[] };
    const args = resolveScenarioArgs(expect.args ?? [], sc.dir, fs.existsSync);
    const at = args.indexOf('--context');
    if (at < 0 || args.includes('--host') || sc.captures.length !== 1 || !sc.captures[0]!.endsWith('.pcapng')) continue;
    const context = loadHostContext(args[at + 1]!);
    const options: AnalyzeOptions = { context, bridges: bridgesFromContext(context), kernel: context.kernelEvidence ?? null };
    const whole = analyzeFiles(sc.captures, { ...options, ...extra });
    if (whole.interfaceNames.length < 2) continue;
    yield { name: path.basename(sc.dir), capture: sc.captures[0]!, context, options, whole };
  }
}

/** The error findings of an analysis as "code confidence clients", sorted; `sameCause` leaves the code out. */
export function errorLines(a: Analysis, sameCause = false): string[] {
  return a.findings.filter((f) => f.severity === 'error').map((f) => `${sameCause ? '' : f.code} ${f.confidence} ${f.evidence['clients']}`).sort();
}
