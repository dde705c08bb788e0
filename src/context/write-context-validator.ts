import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileContextSchema, contextSchemaDigest, PRECOMPILED_VALIDATOR } from './validate-context';

/**
 * Writes the context schema's validator as JavaScript (ajv's standalone code) beside the
 * compiled validate-context.js, at build time: compiling the schema took about 0.2 s of every
 * run given a context, loading the written code about 10 ms.
 */
export function writeContextValidator(file = path.join(__dirname, PRECOMPILED_VALIDATOR)): void {
  const standaloneCode = (require('ajv/dist/standalone') as typeof import('ajv/dist/standalone')).default;
  const { ajv, validate } = compileContextSchema({ source: true });
  // The schema it was written from, so that a run after the schema changed (and only tsc ran) compiles it afresh.
  fs.writeFileSync(file, `${standaloneCode(ajv, validate)}\nmodule.exports.schemaDigest = ${JSON.stringify(contextSchemaDigest())};\n`);
}

if (require.main === module) writeContextValidator();
