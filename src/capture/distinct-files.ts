import * as fs from 'node:fs';
import * as path from 'node:path';

/** A capture path left out because it names a file already in the list. */
export interface RepeatedFile {
  file: string;
  sameAs: string;
}

/**
 * Which of `paths` are different files, in order: two names of one file (the same path
 * twice, a symlink, a hard link) share device and inode, and reading both would count
 * every packet twice. A path that cannot be stat'ed is kept; opening it reports why.
 */
export function distinctFiles(paths: readonly string[]): { files: string[]; repeated: RepeatedFile[] } {
  const seen = new Map<string, string>();
  const files: string[] = [];
  const repeated: RepeatedFile[] = [];
  for (const p of paths) {
    const key = p === '-' ? 'stdin' : fileKey(p);
    const first = key === null ? undefined : seen.get(key);
    if (first !== undefined) {
      repeated.push({ file: p, sameAs: first });
      continue;
    }
    if (key !== null) seen.set(key, p);
    files.push(p);
  }
  return { files, repeated };
}

/** Device and inode of a file, or its absolute path when it cannot be stat'ed; null only if both fail. */
export function fileKey(p: string): string | null {
  try {
    const st = fs.statSync(p, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    try {
      return `path:${path.resolve(p)}`;
    } catch {
      return null;
    }
  }
}

/** The warning for a repeated file, as the report lists it. */
export function repeatedFileWarning(r: RepeatedFile): string {
  return r.file === r.sameAs ? `${r.file} is given twice; read once` : `${r.file} is the same file as ${r.sameAs}; read once`;
}
