#!/usr/bin/env node
// Usage: node test/lab/write-expectation.js captures/NAME [analyze args...]
// Writes captures/NAME/expect.json from the current analysis, for review in a diff.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { expectationFrom, resolveScenarioArgs } = require('../../dist/src/regress/expectation.js');

/** Analyze every capture in `dir` with `args` (file names resolved in `dir`), write and return its expect.json. */
function writeExpectation(dir, args) {
  const captures = fs.readdirSync(dir).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort().map((f) => path.join(dir, f));
  const bin = path.join(__dirname, '..', '..', 'bin', 'synscope.js');
  const report = JSON.parse(
    execFileSync(process.execPath, [bin, 'analyze', ...captures, '--json', '--all-flows', ...resolveScenarioArgs(args, dir, fs.existsSync)], { encoding: 'utf8', maxBuffer: 1 << 28 }),
  );
  const expectation = expectationFrom(report, args);
  fs.writeFileSync(path.join(dir, 'expect.json'), JSON.stringify(expectation, null, 2) + '\n');
  return expectation;
}

if (require.main === module) {
  const [dir, ...args] = process.argv.slice(2);
  writeExpectation(dir, args);
  console.log(`wrote ${path.join(dir, 'expect.json')}`);
}

module.exports = { writeExpectation };
