import { ErrorCode, SynscopeError } from '../errors';
import type { CaptureBackend } from './capture-backend';
import { loadCapBackend } from './cap-backend';
import { loadNativeBackend } from './native-backend';

export type BackendChoice = 'auto' | 'native' | 'cap';

/**
 * The capture engine: the project's native addon (batched delivery, kernel timestamps,
 * drop counters, no promiscuous mode) when it is built, else the `cap` binding.
 */
export function chooseBackend(choice: BackendChoice): CaptureBackend {
  const native = choice === 'cap' ? null : loadNativeBackend();
  if (native !== null && 'backend' in native) return native.backend;
  const cap = choice === 'native' ? null : loadCapBackend();
  if (cap !== null && 'backend' in cap) return cap.backend;
  const reasons = [native, cap].flatMap((r) => (r !== null && 'reason' in r ? [r.reason] : []));
  throw new SynscopeError(ErrorCode.CAPTURE_UNAVAILABLE, `live capture is not possible here: ${reasons.join('; ')}`);
}
