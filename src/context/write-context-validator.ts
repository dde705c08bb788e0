import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileContextSchema, PRECOMPILED_VALIDATOR } from './validate-context';

/**
 * Writes the context schema's validator as JavaScript (ajv's standalone code) beside the
 * compiled validate-context.js, at build time: compiling the schema took about 0.2 s of every
 * run given a context, loading the written code about 10 ms.
 */
export function writeContextValidator(file = path.join(__dirname, PRECOMPILED_VALIDATOR)): void {
  const standaloneCode = (require('ajv/dist/standalone') as typeof import('ajv/dist/standalone')).default;
  const { ajv, validate } = compileContextSchema({ source: true });
  fs.writeFileSync(file, standaloneCode(ajv, validate));
}

if (require.main === module) writeContextValidator();
