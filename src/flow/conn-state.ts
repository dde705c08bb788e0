import type { ConnState } from './flow';
import { E } from './flow-record';
import { EndpointState, endpointInactive, endpointSize } from './zeek-endpoint';

/** Zeek's RSTOS0 history pattern `^?S[^HAFGIQ]*R.*` (an exact match in Zeek). */
const RSTOS0_HISTORY = /^\^?S[^HAFGIQ]*R/;

/**
 * Conn::conn_state (scripts/base/protocols/conn/main.zeek) for TCP, from the two endpoint
 * states at the time the connection is removed (`o`, `p`: base offsets of the originator
 * and the responder in the record's views `i` and `u`). First matching rule wins.
 */
export function connState(i: Int32Array, u: Uint32Array, o: number, p: number, history: string): ConnState {
  const os = i[o + E.STATE];
  const rs = i[p + E.STATE];
  const oInactive = endpointInactive(i, o);
  const rInactive = endpointInactive(i, p);

  if (rs === EndpointState.RESET) {
    if (
      os === EndpointState.SYN_SENT ||
      os === EndpointState.SYN_ACK_SENT ||
      (os === EndpointState.RESET && endpointSize(i, u, o, p) === 0 && endpointSize(i, u, p, o) === 0)
    ) {
      return 'REJ';
    }
    return oInactive ? 'RSTRH' : 'RSTR';
  }
  if (os === EndpointState.RESET) {
    if (rInactive) return RSTOS0_HISTORY.test(history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === EndpointState.CLOSED && os === EndpointState.CLOSED) return 'SF';
  if (os === EndpointState.CLOSED) return rInactive ? 'SH' : 'S2';
  if (rs === EndpointState.CLOSED) return oInactive ? 'SHR' : 'S3';
  if (os === EndpointState.SYN_SENT && rs === EndpointState.INACTIVE) return 'S0';
  if (os === EndpointState.ESTABLISHED && rs === EndpointState.ESTABLISHED) return 'S1';
  return 'OTH';
}
