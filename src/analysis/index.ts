/** The analysis of one capture (or one incident's files): the pipeline's entry points and types. */
export { analyzeFiles, analyzeReaders, StreamingAnalysis } from './run';
export type { Analysis, AnalysisSummary, AnalyzeOptions, AnalyzeProgress, HandshakeSummary, HostSummary, InputSummary, LiveCounts } from './types';
