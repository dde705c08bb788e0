import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSsListeners, parseTcpListeners } from '../src/context/parse-listeners';

// /proc/net/tcp and tcp6 as a little-endian kernel (x86-64) prints them: a LISTEN socket (st 0A)
// on 0.0.0.0:22, one on 127.0.0.1:8000, an established connection (st 01), and [::]:80.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F40 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1004 1 0000000000000000 100 0 0 10 0
   1: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1005 1 0000000000000000 100 0 0 10 0
`;

test('listening sockets of /proc/net/tcp: LISTEN rows only, addresses in the host\'s byte order, canonical and sorted', () => {
  assert.deepEqual(parseTcpListeners(TCP, true), ['0.0.0.0:22', '127.0.0.1:8000']);
});

test('/proc/net/tcp6: IPv6 listeners in brackets, compressed', () => {
  assert.deepEqual(parseTcpListeners(TCP6, true), ['[2001:db8::1]:443', '[::]:80']);
});

test('a big-endian kernel prints the bytes in order', () => {
  assert.deepEqual(parseTcpListeners(TCP.replace('0100007F:1F40 00000000:0000 0A', '7F000001:1F40 00000000:0000 0A'), false), ['0.0.0.0:22', '127.0.0.1:8000']);
});

test('rows that are not sockets are skipped', () => {
  assert.deepEqual(parseTcpListeners('header\n garbage\n   0: ZZ:0016 00000000:0000 0A\n'), []);
});

test('ss -Hltn: the local column, "*" as the dual-stack wildcard, interface scopes dropped', () => {
  const ss = [
    'LISTEN 0      128          0.0.0.0:22        0.0.0.0:*',
    'LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*',
    'LISTEN 0      511                *:80              *:*',
    'LISTEN 0      4096            [::]:8000         [::]:*',
    'LISTEN 0      4096  [fe80::1%eth0]:9000         [::]:*',
    'ESTAB  0      0       192.0.2.1:22      192.0.2.9:50000',
    '',
  ].join('\n');
  assert.deepEqual(parseSsListeners(ss), ['0.0.0.0:22', '127.0.0.53:53', '[::]:80', '[::]:8000', '[fe80::1]:9000']);
});
