import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Debian's package (apt-get install chromium). */
export const CHROMIUM = '/usr/bin/chromium';
/** Chromium can take tens of seconds to start on a small, busy machine. */
const TIMEOUT_MS = 60_000;

/**
 * Runs headless Chromium once on a local file, with a profile of its own that is removed
 * afterwards. --no-sandbox: the tests run as root, where Chromium refuses its sandbox.
 * Throws, with Chromium's stderr, when it fails or times out.
 */
function runChromium(args: readonly string[], page: string): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-chromium-'));
  try {
    const r = spawnSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${profile}`, ...args, `file://${path.resolve(page)}`], {
      encoding: 'utf8',
      timeout: TIMEOUT_MS,
      maxBuffer: 64 << 20,
    });
    if (r.error !== undefined) throw new Error(`${CHROMIUM}: ${r.error.message} (apt-get install chromium)`);
    if (r.status !== 0) throw new Error(`${CHROMIUM} exited ${r.status ?? r.signal}:\n${r.stderr.slice(-2000)}`);
    return r.stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM after Chromium parsed and laid it out, serialized (--dump-dom). */
export function dumpDom(page: string): string {
  return runChromium(['--dump-dom'], page);
}

/** A PNG of the page's first `width` x `height` pixels. */
export function screenshot(page: string, png: string, width: number, height: number): void {
  runChromium([`--screenshot=${path.resolve(png)}`, `--window-size=${width},${height}`], page);
  if (!fs.existsSync(png)) throw new Error(`${CHROMIUM} wrote no screenshot to ${png}`);
}
