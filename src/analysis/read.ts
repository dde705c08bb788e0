import * as fs from 'node:fs';
import { openCaptureFile, STDIN_NAME } from '../capture/open';
import type { CaptureReader, PacketRecord } from '../capture/record';

/** Stage 1: open the capture files (a malformed one throws SynscopeError naming it) and sum their sizes for progress. */
export function openFiles(paths: readonly string[]): { readers: CaptureReader[]; totalBytes: number | null } {
  const readers: CaptureReader[] = [];
  let totalBytes: number | null = 0;
  try {
    for (const p of paths) {
      readers.push(openCaptureFile(p));
      // Standard input and compressed files have no size to measure progress against.
      if (p === STDIN_NAME || readers[readers.length - 1]!.compressed === true) totalBytes = null;
      try {
        if (totalBytes !== null) totalBytes += fs.statSync(p).size;
      } catch {
        totalBytes = null;
      }
    }
  } catch (e) {
    for (const r of readers) r.close();
    throw e;
  }
  return { readers, totalBytes };
}

/** Stage 1: hand every record on with the index of its reader; several readers (one incident's files) merged by capture time. */
export function readRecords(readers: readonly CaptureReader[], onRecord: (rec: PacketRecord, readerIndex: number) => void, onEnded?: (readerIndex: number) => void): void {
  if (readers.length === 1) {
    const reader = readers[0]!;
    for (let rec = reader.next(); rec !== null; rec = reader.next()) onRecord(rec, 0);
    onEnded?.(0);
    return;
  }
  const heads = readers.map((r) => r.next());
  heads.forEach((h, i) => h === null && onEnded?.(i));
  for (;;) {
    let best = -1;
    let bestTime = Infinity;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h === null || h === undefined) continue;
      const t = h.tsSec + h.tsNsec * 1e-9;
      if (t < bestTime) {
        bestTime = t;
        best = i;
      }
    }
    if (best < 0) return;
    onRecord(heads[best]!, best);
    heads[best] = readers[best]!.next();
    if (heads[best] === null) onEnded?.(best);
  }
}
