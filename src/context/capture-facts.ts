import { formatMac } from '../decode/address';
import type { InterfaceRegistry } from '../capture/interface-registry';
import type { CaptureSource } from '../capture/record';
import type { MacSighting } from '../diagnose/input';
import type { CaptureFacts } from './match-capture';

/** What an analysis saw that a host context is checked against (see matchContext). */
export function captureFacts(
  readers: readonly CaptureSource[],
  interfaces: InterfaceRegistry,
  macsByAddress: ReadonlyMap<string, readonly MacSighting[]>,
  linkMacs: ReadonlyMap<string, readonly string[]>,
  firstAt: number,
  lastAt: number,
): CaptureFacts {
  const statedNames = new Set<string>();
  for (const r of readers) {
    for (const i of r.interfaces) if (i.name !== null && i.name !== 'any' && !i.name.includes('@')) statedNames.add(i.name);
  }
  const outgoingMacs = new Map<number, string[]>();
  for (const [ifindex, macs] of interfaces.outgoingMacs()) outgoingMacs.set(ifindex, macs.map(formatMac));
  return {
    firstAt: Number.isFinite(firstAt) ? firstAt : null,
    lastAt: Number.isFinite(lastAt) ? lastAt : null,
    macsByAddress,
    statedNames: [...statedNames],
    linkMacs: new Map([...linkMacs].filter(([name]) => statedNames.has(name))),
    outgoingMacs,
  };
}
