import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { loadNativeAddon, type NativeAddon } from '../src/native/addon';
import { hugePageArrayBuffer } from '../src/native/huge-buffer';

/**
 * adviseHugePages of the native addon and hugePageArrayBuffer. Needs a built addon
 * (`npm run build:native`): without it the tests fail, they do not skip.
 */
const MiB = 1 << 20;
const HUGE_PAGE = 2 * MiB;
const PAGE = 4096;

function addon(): NativeAddon {
  const load = loadNativeAddon();
  if ('reason' in load) assert.fail(load.reason);
  return load.addon;
}

/** The transparent huge page mode in brackets ('always', 'madvise', 'never'), or null without THP in the kernel. */
function thpMode(): string | null {
  try {
    return /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Minor page faults of writing one byte per 4 KiB page of `buffer`, first to last. */
function faultsToTouch(buffer: ArrayBuffer): number {
  const bytes = new Uint8Array(buffer);
  const before = process.resourceUsage().minorPageFault;
  for (let i = 0; i < bytes.length; i += PAGE) bytes[i] = 1;
  return process.resourceUsage().minorPageFault - before;
}

test('hugePageArrayBuffer: zero-filled and writable over its whole length', () => {
  const length = 10 * MiB + 12345;
  const bytes = new Uint8Array(hugePageArrayBuffer(length));
  assert.equal(bytes.length, length);
  assert.equal(bytes.findIndex((b) => b !== 0), -1);
  for (let i = 0; i < length; i++) bytes[i] = i % 251;
  for (let i = 0; i < length; i++) if (bytes[i] !== i % 251) assert.fail(`byte ${i} reads ${bytes[i]}, wrote ${i % 251}`);
});

test('adviseHugePages: 0 for a buffer without a whole 2 MiB page, whole 2 MiB pages of a 10 MiB one', () => {
  const native = addon();
  assert.equal(native.adviseHugePages(new ArrayBuffer(100)), 0);
  assert.equal(native.adviseHugePages(new ArrayBuffer(0)), 0);
  const big = new ArrayBuffer(10 * MiB);
  const advised = native.adviseHugePages(big);
  assert.equal(advised % HUGE_PAGE, 0);
  // The buffer is not 2 MiB-aligned, so at least 4 of its 5 huge pages' worth are whole pages.
  // Without THP in the kernel madvise fails and nothing is advised.
  if (thpMode() === null) assert.equal(advised, 0);
  else assert.ok(advised >= 8 * MiB && advised <= 10 * MiB, `advised ${advised} bytes`);
  // Advice keeps the contents: still zeros.
  assert.equal(new Uint8Array(big).findIndex((b) => b !== 0), -1);
});

test('adviseHugePages: TypeError for anything but an ArrayBuffer', () => {
  const native = addon();
  for (const value of [new Uint8Array(16), Buffer.alloc(16), new SharedArrayBuffer(16), 'buffer', 42, undefined]) {
    assert.throws(() => native.adviseHugePages(value as unknown as ArrayBuffer), (e: Error & { code?: string }) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE');
  }
  assert.throws(() => (native.adviseHugePages as () => number)(), TypeError);
});

const mode = thpMode();
const faultTestName =
  mode === 'never' || mode === null
    ? `adviseHugePages: THP is ${mode ?? 'not in this kernel'} here, so only that a 64 MiB advised buffer works end to end (the fault comparison needs THP)`
    : mode === 'always'
      ? 'adviseHugePages: THP is always here, so plain buffers get huge pages too: a 64 MiB advised buffer costs no more faults than a plain one'
      : 'adviseHugePages: touching a 64 MiB advised buffer end to end costs under a quarter of the minor faults of a plain one';

test(faultTestName, () => {
  const native = addon();
  const plain = new ArrayBuffer(64 * MiB);
  const advisedBuffer = new ArrayBuffer(64 * MiB);
  const advisedBytes = native.adviseHugePages(advisedBuffer);
  const plainFaults = faultsToTouch(plain);
  const advisedFaults = faultsToTouch(advisedBuffer);
  const counts = `advised ${advisedFaults} faults (${advisedBytes} bytes advised), plain ${plainFaults}`;
  if (mode === 'never' || mode === null) {
    assert.ok(advisedBytes % HUGE_PAGE === 0, counts);
  } else if (mode === 'always') {
    assert.ok(advisedFaults <= plainFaults + 16, counts);
  } else {
    // A plain buffer faults once per 4 KiB (16384 here); advised, once per 2 MiB plus the 4 KiB pages of the unaligned ends.
    assert.ok(plainFaults >= (64 * MiB) / PAGE / 2, `the plain buffer was not faulted page by page: ${counts}`);
    assert.ok(advisedFaults < plainFaults / 4, counts);
  }
  const bytes = new Uint8Array(advisedBuffer);
  for (let i = 0; i < bytes.length; i += PAGE) assert.equal(bytes[i], 1);
  assert.equal(bytes[1], 0);
});
