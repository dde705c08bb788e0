import type { Confidence } from './finding';

/** Why silent SYNs got no answer, when the snapshot's rules name it: what `filtered` then says and advises. */
export interface DropCause {
  /** The cause in a few words, for the finding's title: "the host's INPUT policy DROP drops them". */
  because: string;
  sentences: string[];
  evidence: Record<string, unknown>;
  remedy: string[];
  /** How sure the cause is; high when not given (the snapshot's rules surely do it). */
  confidence?: Confidence;
}
