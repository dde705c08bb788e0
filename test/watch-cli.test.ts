import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './cli-harness';

test('watch usage: --ring and --ring-size need --write, and take whole numbers in range (exit 2, one line, before any capture)', async () => {
  for (const [args, message] of [
    [['--ring', '3'], '--ring and --ring-size need --write DIR'],
    [['--ring-size', '5'], '--ring and --ring-size need --write DIR'],
    [['--write', '/nonexistent-synscope-ring', '--ring', '1'], '--ring 1: expected a whole number from 2 to 100000'],
    [['--write', '/nonexistent-synscope-ring', '--ring-size', '0.5'], '--ring-size 0.5: expected a whole number from 1 to 100000'],
  ] as const) {
    const r = await runCli('watch', '-i', 'lo', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(message), `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
