import { ErrorCode, SynscopeError } from '../errors';

/** `--host NAME=FILE[,FILE...]`: which of the capture files were taken on which host. */
export interface HostFiles {
  name: string;
  files: string[];
}

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Parse one `--host` value, e.g. "node-a=node-a.pcapng" or "db1=eth0.pcap,docker0.pcap". */
export function parseHostFlag(value: string): HostFiles {
  const eq = value.indexOf('=');
  const name = eq > 0 ? value.slice(0, eq) : '';
  const files = eq > 0 ? value.slice(eq + 1).split(',').filter((f) => f !== '') : [];
  if (!HOST_NAME.test(name) || files.length === 0) {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `--host expects NAME=FILE[,FILE...] such as node-a=node-a.pcapng, got "${value}"`);
  }
  return { name, files };
}

/** `--context NAME=FILE` names the host a snapshot belongs to; a plain FILE belongs to the only host. */
export function splitHostContext(value: string, hostNames: readonly string[]): { host: string | null; file: string } {
  const eq = value.indexOf('=');
  const named = eq > 0 && hostNames.includes(value.slice(0, eq));
  const file = named ? value.slice(eq + 1) : value;
  if (file === '') throw new SynscopeError(ErrorCode.BAD_USAGE, `--context ${value} names no file; expected ${hostNames.length > 0 ? 'HOST=FILE' : 'FILE'}`);
  return { host: named ? value.slice(0, eq) : null, file };
}
