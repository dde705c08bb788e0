import type { InterfaceRegistry } from './interface-registry';
import type { CaptureSource } from './record';

/**
 * The report's line about an any-device capture whose interfaces are (partly) named by
 * ifindex only, saying why; null when every ifindex got its name (or there was none).
 */
export function anyDeviceWarning(
  readers: readonly CaptureSource[],
  interfaces: InterfaceRegistry,
  unnamed: readonly number[],
  context: 'none' | 'unusable' | 'matched',
): string | null {
  if (unnamed.length === 0) return null;
  const sources = readers.filter((_, i) => interfaces.inputInterfaces(i).some((n) => unnamed.some((x) => n === `if${x}`))).map((r) => r.source);
  const names = [...unnamed].sort((a, b) => a - b).map((x) => `if${x}`).join(', ');
  const why =
    context === 'none'
      ? 'no host context was given to name them (take `synscope context --output FILE` on that host and add --context FILE)'
      : context === 'unusable'
        ? 'the host context could not be confirmed to belong to this capture (see above), so it does not name them'
        : 'the host context has no interface with that ifindex (removed before the snapshot?)';
  return `${sources.join(', ')}: Linux cooked v2 (tcpdump -i any) records name their interface by ifindex only; ${why}: ${names}`;
}
