import { ErrorCode, SynscopeError } from '../errors';
import { loadNativeAddon } from '../native/addon';
import type { ResolvedNamespace } from './namespace-spec';

/**
 * Run `fn` with this thread inside the network namespace `namespace` (null: stay here)
 * and come back, also when `fn` throws. Sockets, capture handles and child processes
 * created inside keep that namespace after the return.
 *
 * `fn` must be synchronous: setns(2) moves the thread, not a call chain, so whatever
 * runs after an `await` inside `fn` (or in a callback it schedules) runs back in the
 * original namespace. For asynchronous work, start a child process that calls
 * `enterNetns` first.
 *
 * Throws ERR_CAPTURE_UNAVAILABLE when the native addon is not built, ERR_NETNS_NOT_FOUND
 * when the namespace file is gone, ERR_PERMISSION without CAP_SYS_ADMIN, ERR_BAD_USAGE
 * when the path is not a network namespace. Errors thrown by `fn` pass through as they are.
 */
export function inNetns<T>(namespace: ResolvedNamespace | null, fn: () => T): T {
  if (namespace === null) return fn();
  const load = loadNativeAddon();
  if ('reason' in load) {
    throw new SynscopeError(ErrorCode.CAPTURE_UNAVAILABLE, `cannot enter network namespace ${namespace.label}: ${load.reason}`);
  }
  let entered = false;
  try {
    return load.addon.runInNetns(namespace.path, () => {
      entered = true;
      return fn();
    });
  } catch (e) {
    if (entered) throw e;
    throw namespaceError(namespace, e as Error & { code?: string });
  }
}

function namespaceError(namespace: ResolvedNamespace, e: Error & { code?: string }): SynscopeError {
  const where = namespace.label === namespace.path ? namespace.path : `${namespace.label} (${namespace.path})`;
  switch (e.code) {
    case 'ENOENT':
      return new SynscopeError(ErrorCode.NETNS_NOT_FOUND, `network namespace ${where} no longer exists`);
    case 'EPERM':
    case 'EACCES':
      return new SynscopeError(ErrorCode.PERMISSION, `entering network namespace ${where} needs CAP_SYS_ADMIN: run as root (${e.code})`);
    default:
      return new SynscopeError(ErrorCode.BAD_USAGE, e.message);
  }
}
