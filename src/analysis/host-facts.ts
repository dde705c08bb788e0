import { anyDeviceWarning } from '../capture/any-device-warning';
import type { CaptureSource } from '../capture/record';
import { captureFacts } from '../context/capture-facts';
import { contextUse } from '../context/context-use';
import { matchContext, type ContextMatch } from '../context/match-capture';
import { sysctlChangeWarning } from '../context/sysctl-changes';
import type { MacSighting } from '../diagnose/input';
import type { DecodeStage } from './decode';
import type { PacketEvidence } from './packet-evidence';
import type { AnalyzeOptions } from './types';
import type { HostContext } from '../context/host-context';
import { interfaceByMacs } from '../context/interface-by-macs';
import type { InterfaceRegistry } from '../capture/interface-registry';

export type HostFacts = ReturnType<typeof contextUse> & {
  match: ContextMatch | null;
  /** Interfaces named after their files that the context named instead, from their frames' MACs. */
  renamed: { file: string; name: string }[];
  /** Some interface got its name here (an any-device capture's ifindex, a file's interface): what was built from the names before is stale. */
  namesChanged: boolean;
};

/**
 * Stage 5: what the host knows, used only as far as it belongs to this capture. The context
 * is checked against the capture (unless it is a live run's own snapshot: `contextIsOwn`),
 * an any-device capture's interfaces are named from it, and what could not be used is said.
 */
export function hostFacts(
  readers: readonly CaptureSource[],
  decode: DecodeStage,
  evidence: PacketEvidence,
  addressMacs: ReadonlyMap<string, readonly MacSighting[]>,
  options: AnalyzeOptions,
  contextIsOwn: boolean,
): HostFacts {
  const context = options.context ?? null;
  const interfaces = decode.interfaces;
  const facts = captureFacts(readers, interfaces, addressMacs, evidence.linkMacs.named(interfaces.names), decode.firstAt, decode.lastAt);
  const match = context === null || contextIsOwn ? null : matchContext(context, facts, options.contextWindowSeconds);
  const use = contextUse({ context, bridges: options.bridges ?? [], kernel: options.kernel ?? null }, match);
  const namesBefore = interfaces.names.join('\n');
  const unnamed = interfaces.resolveIfindexNames(use.ifindexNames);
  const renamed = use.context === null ? [] : fileInterfaceNames(use.context, interfaces, evidence.linkMacs.named(interfaces.names, true));
  const anyDevice = anyDeviceWarning(readers, interfaces, unnamed, context === null ? 'none' : use.ifindexNames === null ? 'unusable' : 'matched');
  const sysctls = match === null || match.verdict !== 'mismatch' ? sysctlChangeWarning(context) : null;
  const taken = renamed.map(({ file, name }) => `${file} names no interface: it is taken as ${name}, the snapshot's interface whose MAC its frames carry`);
  const namesChanged = interfaces.names.join('\n') !== namesBefore;
  return { ...use, match, renamed, namesChanged, warnings: [...use.warnings, ...taken, ...[anyDevice, sysctls].filter((w): w is string => w !== null)] };
}

/**
 * Names a file's interface the context knows by another name (two tcpdumps, "a.pcap" of
 * eth0 and "b.pcap" of docker0): the rules that follow the snapshot's routes and rules from
 * interface to interface need its names. A file name that is already one of the snapshot's
 * interfaces is kept.
 */
function fileInterfaceNames(ctx: HostContext, interfaces: InterfaceRegistry, linkMacs: ReadonlyMap<string, readonly string[]>) {
  const known = new Set(ctx.interfaces.map((i) => i.name));
  return interfaces.resolveFileNames((file) => {
    const macs = linkMacs.get(file);
    return known.has(file) || macs === undefined ? null : (interfaceByMacs(ctx, macs)?.name ?? null);
  });
}
