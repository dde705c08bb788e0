import { ErrorCode, SynscopeError } from '../errors';
import type { OpenRequest } from './capture-backend';

/** Turn libpcap's open/activate message into a one-line error that says what to do. */
export function captureOpenError(request: OpenRequest, message: string, code?: string): SynscopeError {
  const text = message.trim().split('\n')[0] ?? message;
  if (code === 'EPERM' || /permission|not permitted/i.test(text)) {
    return new SynscopeError(
      ErrorCode.PERMISSION,
      `capturing on ${request.device} needs CAP_NET_RAW (and CAP_NET_ADMIN): run as root, or \`setcap cap_net_raw,cap_net_admin+eip $(command -v node)\` (libpcap: ${text})`,
    );
  }
  if (code === 'ENODEV' || /no such device/i.test(text)) {
    return new SynscopeError(ErrorCode.UNKNOWN_DEVICE, `no interface named ${request.device} (libpcap: ${text})`);
  }
  if (code === 'ENETDOWN' || /not up|network is down/i.test(text)) {
    return new SynscopeError(ErrorCode.CAPTURE_UNAVAILABLE, `${request.device} is down: bring it up or capture elsewhere (libpcap: ${text})`);
  }
  if (code === 'EFILTER' || /syntax error|filter/i.test(text)) {
    return new SynscopeError(ErrorCode.BAD_USAGE, `--filter ${JSON.stringify(request.filter)} is not a valid BPF filter: ${text}`);
  }
  return new SynscopeError(ErrorCode.CAPTURE_UNAVAILABLE, `cannot capture on ${request.device}: ${text}`);
}
