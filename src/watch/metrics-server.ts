import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, SynscopeError } from '../errors';

/** The content type of the Prometheus text exposition format 0.0.4. */
const EXPOSITION_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Where --metrics listens: "127.0.0.1:9464", "[::1]:9464", ":9464" (every address). */
export interface MetricsAddress {
  host: string | undefined;
  port: number;
}

export function parseMetricsAddress(text: string): MetricsAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new SynscopeError(ErrorCode.BAD_USAGE, `--metrics ${JSON.stringify(text)}: expected ADDR:PORT, e.g. 127.0.0.1:9464, [::1]:9464 or :9464`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/**
 * Serve `render()` at /metrics over HTTP (404 elsewhere). Resolves once listening, to the
 * address it got (port 0 picks a free one) and a close function.
 */
export async function serveMetrics(address: MetricsAddress, render: () => string): Promise<{ address: AddressInfo; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if ((req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('synscope watch serves /metrics\n');
      return;
    }
    const body = render();
    res.writeHead(200, { 'content-type': EXPOSITION_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new SynscopeError(ErrorCode.BAD_USAGE, `--metrics ${address.host ?? ''}:${address.port}: cannot listen: ${e.code ?? e.message}`)));
    server.listen(address.port, address.host, () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
