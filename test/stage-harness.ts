import { AttemptLog } from '../src/analysis/attempt-log';
import { DecodeStage } from '../src/analysis/decode';
import { PacketEvidence } from '../src/analysis/packet-evidence';
import { openFiles, readRecords } from '../src/analysis/read';
import { TrackStage } from '../src/analysis/track';

export interface Stages {
  decode: DecodeStage;
  track: TrackStage;
  evidence: PacketEvidence;
  log: AttemptLog;
}

/**
 * The analysis' first stages wired as AnalysisRun wires them (read, decode, track, evidence,
 * attempt log), run over `files` with the JS or the native tracker to the tracker's finish,
 * for tests that compare what the two keep before any rule reads it.
 */
export function runStages(files: readonly string[], native: boolean): Stages {
  const { readers } = openFiles(files);
  try {
    const evidence = new PacketEvidence();
    const log = new AttemptLog();
    const track = new TrackStage({ allFlows: false, zeekTimers: false, nativeTracker: native }, evidence, log);
    if ((track.native !== null) !== native) throw new Error(`the native tracker: ${track.nativeUnavailable ?? 'used when not asked for'}`);
    const decode = new DecodeStage(readers, track, evidence);
    readRecords(readers, (rec, i) => decode.packet(rec, i), (i) => decode.interfaces.readerEnded(i));
    track.tracker.finish();
    track.takeNativeAccounts();
    decode.takeNativeEvidence();
    return { decode, track, evidence, log };
  } finally {
    for (const r of readers) r.close();
  }
}
