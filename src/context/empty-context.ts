import { CONTEXT_SCHEMA, type HostContext } from './host-context';

/** A snapshot that knows nothing but what `parts` set: every list empty, every optional source null. */
export function emptyHostContext(parts: Partial<HostContext> & Pick<HostContext, 'capturedAt' | 'hostname' | 'namespace' | 'kernelRelease'>): HostContext {
  return {
    schema: CONTEXT_SCHEMA,
    interfaces: [],
    routes: [],
    rules: [],
    dockerNetworks: null,
    sysctls: {},
    counters: {},
    conntrack: null,
    natRules: { iptables: null, nft: null },
    unavailable: [],
    ...parts,
  };
}
