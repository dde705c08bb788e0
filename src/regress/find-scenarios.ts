import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, SynscopeError } from '../errors';
import { EXPECT_FILE } from './expect-file';

/** A stored scenario: a folder with its capture files and (normally) an expect.json. */
export interface Scenario {
  /** Path of the folder relative to the searched directory ("docker0-overlap", "variants/sll2"). */
  name: string;
  dir: string;
  /** The folder's .pcap/.pcapng files, sorted; analyzed together as one incident. */
  captures: string[];
  /** expect.json beside the captures, or null when there is none. */
  expectFile: string | null;
}

const CAPTURE_FILE = /\.(pcap|pcapng)$/i;

/**
 * Every scenario folder under `root`, sorted by name: a folder holding a capture file or
 * an expect.json (one without the other is reported by the run, not skipped). `root`
 * itself is one when it holds them, so a single incident folder works too. Hidden
 * folders and node_modules are skipped. Throws SynscopeError ERR_READ_FAILED when
 * `root` is not a readable directory.
 */
export function findScenarios(root: string): Scenario[] {
  let isDir: boolean;
  try {
    isDir = fs.statSync(root).isDirectory();
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message;
    throw new SynscopeError(ErrorCode.READ_FAILED, `cannot read the scenario directory: ${reason}`, { file: root });
  }
  if (!isDir) throw new SynscopeError(ErrorCode.READ_FAILED, 'not a directory (give the folder that holds the scenario folders)', { file: root });
  const found: Scenario[] = [];
  visit(root, root, found);
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

function visit(root: string, dir: string, found: Scenario[]): void {
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => e.name);
  const captures = files.filter((f) => CAPTURE_FILE.test(f)).sort();
  if (captures.length > 0 || files.includes(EXPECT_FILE)) {
    found.push({
      name: dir === root ? path.basename(path.resolve(root)) : path.relative(root, dir).split(path.sep).join('/'),
      dir,
      captures: captures.map((f) => path.join(dir, f)),
      expectFile: files.includes(EXPECT_FILE) ? path.join(dir, EXPECT_FILE) : null,
    });
    return;
  }
  for (const e of entries) {
    if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') visit(root, path.join(dir, e.name), found);
  }
}
