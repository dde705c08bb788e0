import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Ownership of synscope's tracefs instances and temporary tracefs mounts, so that what a
 * killed run left behind is found and removed by the next one.
 *
 * The lock is the kernel's own: a session keeps a file of its instance open (opened
 * through its temporary mount, when it made one) for as long as it runs. While any file
 * of an instance is open, rmdir of it fails with EBUSY, and so does umount of the mount
 * it was opened through; the kernel closes the file when the process dies, however it
 * dies. Unlike a PID, this cannot be mistaken for another process, and unlike a lock file
 * under /run it holds across PID and mount namespaces, as tracefs is one per kernel. So
 * a leftover is simply one whose rmdir (or umount) succeeds; the kernel disables and
 * frees an instance's events when it is removed. Only the moment between creating an
 * instance (or mount) and opening the file is unprotected, so anything younger than
 * YOUNG_MS is left alone.
 */

const INSTANCE_PREFIX = 'synscope-';
const MOUNT_PREFIX = 'synscope-tracefs-';
/** "synscope-<pid>-<8 hex>": this version's instances. */
const INSTANCE_NAME = /^synscope-(\d+)-[0-9a-f]{8}$/;
/** "synscope-<pid>-<n>": instances of versions that held no file open; only a PID tells whether the owner lives. */
const LEGACY_INSTANCE_NAME = /^synscope-(\d+)-(\d+)$/;
/** "synscope-tracefs-<ms since 1970, base 36>-XXXXXX" (mkdtemp's suffix). */
const MOUNT_NAME = /^synscope-tracefs-([0-9a-z]+)-/;
const YOUNG_MS = 2000;

/** A name no other process has: PIDs repeat across containers, 32 random bits do not. */
export function newInstanceName(): string {
  return `${INSTANCE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** The mkdtemp prefix of a temporary tracefs mount point, carrying its creation time. */
export function newMountPrefix(): string {
  return path.join(os.tmpdir(), `${MOUNT_PREFIX}${Date.now().toString(36)}-`);
}

/** What removeTraceLeftovers removed. */
export interface TraceLeftovers {
  /** Instance names. */
  instances: string[];
  /** Mount points (unmounted and removed) and empty mount directories (removed). */
  mounts: string[];
}

/**
 * Remove the instances under `root` and the temporary tracefs mounts that synscope runs
 * left behind; `ownMount` (this session's, if any) is never touched.
 */
export function removeTraceLeftovers(root: string, ownMount: string | null): TraceLeftovers {
  const removed: TraceLeftovers = { instances: [], mounts: [] };
  const instances = path.join(root, 'instances');
  let names: string[] = [];
  try {
    names = fs.readdirSync(instances);
  } catch {
    // No instances directory: nothing to clean.
  }
  for (const name of names) {
    if (!name.startsWith(INSTANCE_PREFIX) || !isLeftoverInstance(path.join(instances, name), name)) continue;
    try {
      fs.rmdirSync(path.join(instances, name));
      removed.instances.push(name);
    } catch {
      // EBUSY: its owner still holds a file of it open.
    }
  }
  // An older version's running session holds nothing open: its mount (named without a time) is spared while it lives.
  const legacyAlive = names.some((n) => !INSTANCE_NAME.test(n) && isLegacyOwnerAlive(n));
  for (const dir of mountDirectories(ownMount)) {
    if (legacyAlive && MOUNT_NAME.exec(path.basename(dir)) === null) continue;
    if (isMounted(dir) && spawnSync('umount', [dir], { timeout: 5000 }).status !== 0) continue;
    try {
      fs.rmdirSync(dir);
      removed.mounts.push(dir);
    } catch {
      // Still mounted or not empty: not ours to force.
    }
  }
  return removed;
}

function isLegacyOwnerAlive(name: string): boolean {
  const legacy = LEGACY_INSTANCE_NAME.exec(name);
  return legacy !== null && fs.existsSync(`/proc/${legacy[1]}`);
}

function isLeftoverInstance(dir: string, name: string): boolean {
  if (!INSTANCE_NAME.test(name)) return LEGACY_INSTANCE_NAME.test(name) && !isLegacyOwnerAlive(name);
  try {
    return Date.now() - fs.statSync(dir).ctimeMs >= YOUNG_MS;
  } catch {
    return false;
  }
}

/** Temporary tracefs mount points in the temporary directory, except young ones and `own`. */
function mountDirectories(own: string | null): string[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(os.tmpdir());
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.startsWith(MOUNT_PREFIX))
    .map((e) => path.join(os.tmpdir(), e))
    .filter((dir) => dir !== own && !isYoungMount(path.basename(dir)));
}

/** Made in the last YOUNG_MS by the name's clock; names of older versions carry none and count as old. */
function isYoungMount(name: string): boolean {
  const stamp = MOUNT_NAME.exec(name)?.[1];
  if (stamp === undefined) return false;
  const made = parseInt(stamp, 36);
  return Number.isFinite(made) && Date.now() - made < YOUNG_MS;
}

function isMounted(dir: string): boolean {
  try {
    return fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').some((line) => unescapeMount(line.split(' ')[1] ?? '') === dir);
  } catch {
    return false;
  }
}

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
