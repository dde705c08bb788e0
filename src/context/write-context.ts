import * as fs from 'node:fs';
import { ErrorCode, SynscopeError } from '../errors';
import type { HostContext } from './host-context';

/** A snapshot as `synscope context` prints it and `loadHostContext` reads it: indented JSON, one trailing newline. */
export function hostContextJson(context: HostContext): string {
  return `${JSON.stringify(context, null, 2)}\n`;
}

/**
 * Write a snapshot to `path` through a temporary file renamed over it, so a reader (or a
 * process killed mid-write) sees the old snapshot or the new one, never half of one.
 * Throws SynscopeError ERR_WRITE_FAILED naming the file.
 */
export function writeHostContext(path: string, context: HostContext): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, hostContextJson(context));
    fs.renameSync(temporary, path);
  } catch (e) {
    try {
      fs.rmSync(temporary, { force: true });
    } catch {
      // The write error below is the one to report.
    }
    throw new SynscopeError(ErrorCode.WRITE_FAILED, `cannot write host context: ${(e as Error).message}`, { file: path });
  }
}
