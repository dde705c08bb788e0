import * as fs from 'node:fs';
import { ErrorCode, SynscopeError } from '../errors';
import type { HostContext } from './host-context';

/** A snapshot as `synscope context` prints it and `loadHostContext` reads it: indented JSON, one trailing newline. */
export function hostContextJson(context: HostContext): string {
  return `${JSON.stringify(context, null, 2)}\n`;
}

/** Write a snapshot to `path`; throws SynscopeError ERR_WRITE_FAILED naming the file. */
export function writeHostContext(path: string, context: HostContext): void {
  try {
    fs.writeFileSync(path, hostContextJson(context));
  } catch (e) {
    throw new SynscopeError(ErrorCode.WRITE_FAILED, `cannot write host context: ${(e as Error).message}`, { file: path });
  }
}
