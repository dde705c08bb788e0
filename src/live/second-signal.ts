import * as os from 'node:os';
import { loadNativeAddon } from '../native/addon';

/**
 * Make the second of these signals end the process with 130 within a fraction of a
 * second, even while JavaScript is busy building a report, whose listeners would only
 * run once it is done. Call it after the JavaScript listeners are added (they are passed
 * every signal); the returned function undoes it, to be called before they are removed.
 * Without the native addon JavaScript's own listener is all there is.
 */
export function exitOnSecondSignal(signals: readonly NodeJS.Signals[]): () => void {
  const load = loadNativeAddon();
  if ('reason' in load) return () => undefined;
  load.addon.exitOnSecondSignal(signals.map((s) => os.constants.signals[s]));
  return () => load.addon.restoreSignals();
}
