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

export type HostFacts = ReturnType<typeof contextUse> & { match: ContextMatch | null };

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
  const unnamed = interfaces.resolveIfindexNames(use.ifindexNames);
  const anyDevice = anyDeviceWarning(readers, interfaces, unnamed, context === null ? 'none' : use.ifindexNames === null ? 'unusable' : 'matched');
  const sysctls = match === null || match.verdict !== 'mismatch' ? sysctlChangeWarning(context) : null;
  return { ...use, match, warnings: [...use.warnings, ...[anyDevice, sysctls].filter((w): w is string => w !== null)] };
}
