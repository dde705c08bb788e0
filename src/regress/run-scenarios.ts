import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyzeCaptures, type CaptureAnalysisOptions } from '../hosts/analyze-captures';
import { isSynscopeError } from '../errors';
import { toReportJson, type ReportJson } from '../report/json';
import { EXPECT_FILE, readExpectation, writeExpectation } from './expect-file';
import { compareWithExpectation, expectationFrom, resolveScenarioArgs, type Expectation } from './expectation';
import { findScenarios, type Scenario } from './find-scenarios';

export interface RunScenariosOptions {
  /** Run only the scenarios whose name contains this text. */
  filter?: string;
  /**
   * Rewrite each expect.json that no longer matches from the current output, keeping
   * its args; write one where it is missing. Meant for review in a diff.
   */
  update?: boolean;
  /**
   * Turn a scenario's analyze arguments (expect.json `args`, file names already
   * resolved beside the capture) into analysis options, exactly as `synscope analyze`
   * would; throws SynscopeError on arguments it cannot use.
   */
  analyzeOptions: (args: readonly string[]) => CaptureAnalysisOptions;
}

/** passed: output matches expect.json; failed: it does not, or the scenario cannot run; updated: expect.json was (re)written. */
export type ScenarioStatus = 'passed' | 'failed' | 'updated';

export interface ScenarioResult {
  name: string;
  dir: string;
  status: ScenarioStatus;
  /** One line each: expected against got, what --update changed, or why the scenario could not run. */
  differences: string[];
  /** Handshakes attempted and findings in the current output; null when the analysis did not run. */
  attempts: number | null;
  findings: number | null;
  seconds: number;
}

export interface ScenarioRun {
  root: string;
  /** Scenario folders found under root, before the filter. */
  found: number;
  /** One result per scenario that passed the filter, by name. */
  results: ScenarioResult[];
}

/**
 * Find the scenario folders under `root` (see findScenarios), analyze each one's
 * captures with its expect.json args and compare with its expectation, order-insensitive.
 * A scenario without expect.json, or whose capture or context cannot be read, fails
 * (it does not stop the run). Throws SynscopeError only when `root` cannot be read.
 */
export function runScenarios(root: string, options: RunScenariosOptions): ScenarioRun {
  const all = findScenarios(root);
  const filter = options.filter;
  const chosen = filter === undefined ? all : all.filter((s) => s.name.includes(filter));
  return { root, found: all.length, results: chosen.map((s) => runScenario(s, options)) };
}

/** Run one scenario (see runScenarios). */
export function runScenario(scenario: Scenario, options: RunScenariosOptions): ScenarioResult {
  const started = performance.now();
  const result = (status: ScenarioStatus, differences: string[], report: ReportJson | null = null): ScenarioResult => ({
    name: scenario.name,
    dir: scenario.dir,
    status,
    differences,
    attempts: report?.summary.handshakes.attempted ?? null,
    findings: report?.findings.length ?? null,
    seconds: (performance.now() - started) / 1000,
  });

  if (scenario.captures.length === 0) return result('failed', [`no capture file (.pcap or .pcapng) in ${scenario.dir}`]);
  let expectation: Expectation | null = null;
  if (scenario.expectFile !== null) {
    const read = readExpectation(scenario.expectFile);
    if (!read.ok) return result('failed', [read.problem]);
    expectation = read.expectation;
  } else if (options.update !== true) {
    return result('failed', [`no ${EXPECT_FILE} in ${scenario.dir}: every scenario needs one (write it with --update, review it, keep it)`]);
  }

  const args = expectation?.args ?? defaultArgs(scenario);
  let report: ReportJson;
  try {
    const analysisOptions = options.analyzeOptions(resolveScenarioArgs(args, scenario.dir, fs.existsSync));
    report = toReportJson(analyzeCaptures(scenario.captures, { ...analysisOptions, allFlows: true }));
  } catch (e) {
    if (!isSynscopeError(e)) throw e;
    return result('failed', [e.oneLine()]);
  }

  const differences = expectation === null ? [`new ${EXPECT_FILE}`] : compareWithExpectation(report, expectation);
  if (options.update !== true || differences.length === 0) return result(differences.length === 0 ? 'passed' : 'failed', differences, report);
  const file = scenario.expectFile ?? path.join(scenario.dir, EXPECT_FILE);
  try {
    writeExpectation(file, expectationFrom(report, args));
  } catch (e) {
    return result('failed', [`cannot write ${file}: ${(e as Error).message}`], report);
  }
  return result('updated', differences, report);
}

/** Args for a new expect.json: the scenario's context snapshot when it has one. */
function defaultArgs(scenario: Scenario): string[] {
  return fs.existsSync(path.join(scenario.dir, 'context.json')) ? ['--context', 'context.json'] : [];
}
