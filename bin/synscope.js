#!/usr/bin/env node
'use strict';
const { main } = require('../dist/src/cli/main.js');
require('../dist/src/cli/io.js').endOnClosedOutput();
main(process.argv).then((code) => { process.exitCode = code; });
