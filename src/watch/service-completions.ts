import { serviceOf } from '../diagnose/group';
import type { Flow } from '../flow/flow';

/** Services one window counts completions for; a window's later services are left out and counted. */
export const MAX_SERVICES = 4096;

/**
 * Handshakes completed in one window, per service, fed by the analysis' onFlow as flows
 * leave its tracker. A service past MAX_SERVICES is not counted: its findings then see the
 * window as quiet, never as healthy, so the bound can delay a resolution but never fake one.
 */
export class ServiceCompletions {
  readonly byService = new Map<string, number>();
  servicesLeftOut = 0;

  readonly onFlow = (flow: Flow): void => {
    if (flow.outcome !== 'completed') return;
    const service = serviceOf(flow);
    const n = this.byService.get(service);
    if (n !== undefined) this.byService.set(service, n + 1);
    else if (this.byService.size < MAX_SERVICES) this.byService.set(service, 1);
    else this.servicesLeftOut++;
  };
}
