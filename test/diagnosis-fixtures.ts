import type { DiagnosisInput } from '../src/diagnose/input';

/** A DiagnosisInput for a rule's unit test: the parts given, and a clean capture with nothing else seen. */
export function diagnosisInput(parts: Partial<DiagnosisInput> & Pick<DiagnosisInput, 'failedFlows' | 'interfaceNames'>): DiagnosisInput {
  return {
    bridges: [],
    arpRequests: new Map(),
    seenAddresses: new Set(),
    capture: { droppedByCapture: 0, synAckWithoutSyn: 0, synAckWithoutSynExamples: [], oneSidedFlows: 0, truncatedFiles: [], undecodablePackets: 0, completed: 0 },
    context: null,
    ...parts,
  };
}
