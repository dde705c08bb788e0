import type { CaptureSource } from '../capture/record';
import { isSupportedLinkType, linkTypeName } from '../decode/link-types';
import { problemCategory, problemName } from '../decode/problems';
import { MAX_LIVE_FLOWS, type TrackerPressure } from '../flow/tracker';
import { MAX_STITCH_RECORDS } from '../flow/stitch';
import { MAX_SYNS_TOTAL } from './attempt-log';
import type { DecodeStage } from './decode';
import type { InputSummary } from './types';

/** Stage 7 (what the report says about its inputs): one summary per capture source. */
export function inputSummaries(readers: readonly CaptureSource[], decode: DecodeStage): InputSummary[] {
  return readers.map((reader, index) => {
    const linkTypes = new Set(decode.linkTypesSeen[index]);
    for (const i of reader.interfaces) linkTypes.add(i.linkType);
    return {
      source: reader.source,
      format: reader.format,
      linkTypes: [...linkTypes].map(linkTypeName),
      interfaces: decode.interfaces.inputInterfaces(index),
      packets: decode.packetsPerReader[index]!,
      droppedByCapture: reader.droppedByCapture(),
      truncatedAt: reader.stats.truncatedAt,
      snapped: reader.stats.snapped,
      ...(reader.namespacePath !== undefined && { namespacePath: reader.namespacePath }),
    };
  });
}

/** Packets not fully decoded, by reason, and how many of them could not be decoded at all. */
export function decodeProblems(problems: Float64Array): { byName: Record<string, number>; undecodable: number } {
  const byName: Record<string, number> = {};
  let undecodable = 0;
  for (let code = 1; code < problems.length; code++) {
    const n = problems[code]!;
    if (n === 0) continue;
    byName[problemName(code)] = n;
    const cat = problemCategory(code);
    if (cat === 'truncated' || cat === 'invalid') undecodable += n;
  }
  return { byName, undecodable };
}

/** One-line notes for the operator: cut-off files, unsupported link types, the flow limit reached. */
export function inputWarnings(
  readers: readonly CaptureSource[],
  inputs: readonly InputSummary[],
  pressure: TrackerPressure,
  unrecorded: { stitching: number; attemptLog: number; interfaces: number },
): string[] {
  const out: string[] = [];
  if (pressure.endedEarly > 0) {
    out.push(
      `more than ${MAX_LIVE_FLOWS} flows were open at once (a SYN flood?): ${pressure.endedEarly} were ended before their timer to bound memory` +
        (pressure.synRetransmissionsAfter > 0 ? `; ${pressure.synRetransmissionsAfter} later SYN retransmissions of them were not counted as new attempts` : '') +
        (pressure.answersAfter > 0 ? `; ${pressure.answersAfter} answers (SYN-ACK or RST) came after their attempt was already counted as failed` : ''),
    );
  }
  if (unrecorded.stitching > 0 && unrecorded.interfaces > 1) {
    out.push(`NAT stitching recorded the first ${MAX_STITCH_RECORDS} attempts: ${unrecorded.stitching} later ones were not matched across hops (an attempt seen at two hops then counts twice)`);
  }
  if (unrecorded.attemptLog > 0) {
    out.push(`the tcp_tw_recycle replay and the timestamp-clock census saw the first ${MAX_SYNS_TOTAL} answered or unanswered attempts; ${unrecorded.attemptLog} later ones are not in them`);
  }
  for (const [i, input] of inputs.entries()) {
    if (input.truncatedAt !== null) {
      out.push(`${input.source}: the file ends in the middle of a record at byte ${input.truncatedAt} (capture cut off?); analyzed the ${input.packets} packets before it`);
    }
    for (const lt of readers[i]!.interfaces.map((x) => x.linkType)) {
      if (!isSupportedLinkType(lt)) {
        out.push(`${input.source}: link type ${linkTypeName(lt)} is not supported; its packets were counted but not decoded`);
        break;
      }
    }
  }
  return out;
}

export function sumOrNull(values: (number | null)[]): number | null {
  let sum: number | null = null;
  for (const v of values) if (v !== null) sum = (sum ?? 0) + v;
  return sum;
}
