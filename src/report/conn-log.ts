import type { Analysis } from '../analysis';
import type { Flow } from '../flow/flow';

/**
 * Zeek's conn.log columns and their types, as Zeek 9.1 writes them
 * (scripts/base/protocols/conn/main.zeek, record Conn::Info; ip_proto is the last one).
 */
const CONN_FIELDS: readonly (readonly [name: string, type: string])[] = [
  ['ts', 'time'],
  ['uid', 'string'],
  ['id.orig_h', 'addr'],
  ['id.orig_p', 'port'],
  ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'],
  ['proto', 'enum'],
  ['service', 'string'],
  ['duration', 'interval'],
  ['orig_bytes', 'count'],
  ['resp_bytes', 'count'],
  ['conn_state', 'string'],
  ['local_orig', 'bool'],
  ['local_resp', 'bool'],
  ['missed_bytes', 'count'],
  ['history', 'string'],
  ['orig_pkts', 'count'],
  ['orig_ip_bytes', 'count'],
  ['resp_pkts', 'count'],
  ['resp_ip_bytes', 'count'],
  ['tunnel_parents', 'set[string]'],
  ['ip_proto', 'count'],
];

/** Zeek's mark for a field it has no value for. */
const UNSET = '-';
const TCP = 6;

/**
 * The analysis's flows as a Zeek conn.log (Zeek's ASCII writer: tab-separated, its header
 * lines, `#close` last), one line per flow in `a.flows` (the failed attempts, or every flow
 * with allFlows). A field synscope does not know is `-`, as Zeek writes an unset field:
 * service (no protocol detection), the byte counts (no reassembly), local_orig/local_resp
 * (no Site::local_nets) and tunnel_parents. `uid` is synscope's flow id, as in the JSON
 * report. `duration` runs to the flow's last packet, where Zeek stops at the packet after
 * which both sides have closed (TCPSessionAdapter sets no last time once both did_close):
 * after a FIN or RST from each side, ours also counts the last ACKs. `#open`/`#close` are
 * `now` in UTC, in Zeek's `%Y-%m-%d-%H-%M-%S` form.
 */
export function writeConnLog(a: Analysis, write: (chunk: string) => void, now: Date = new Date()): void {
  write(
    [
      '#separator \\x09',
      '#set_separator\t,',
      '#empty_field\t(empty)',
      `#unset_field\t${UNSET}`,
      '#path\tconn',
      `#open\t${zeekLogTime(now)}`,
      `#fields\t${CONN_FIELDS.map(([name]) => name).join('\t')}`,
      `#types\t${CONN_FIELDS.map(([, type]) => type).join('\t')}`,
    ].join('\n') + '\n',
  );
  let batch = '';
  for (const f of a.flows) {
    batch += connLine(f);
    if (batch.length > 1 << 16) {
      write(batch);
      batch = '';
    }
  }
  write(`${batch}#close\t${zeekLogTime(now)}\n`);
}

/** One flow as a conn.log line, its fields in CONN_FIELDS order. */
function connLine(f: Flow): string {
  const duration = f.lastSeen - f.firstSeen;
  return [
    f.firstSeen.toFixed(6),
    f.id,
    f.clientIp,
    f.clientPort,
    f.serverIp,
    f.serverPort,
    'tcp',
    UNSET,
    // Zeek leaves duration unset for a connection of one instant.
    duration > 0 ? duration.toFixed(6) : UNSET,
    UNSET,
    UNSET,
    f.state,
    UNSET,
    UNSET,
    UNSET,
    f.history === '' ? UNSET : f.history,
    f.origPackets,
    UNSET,
    f.respPackets,
    UNSET,
    UNSET,
    TCP,
  ].join('\t') + '\n';
}

/** Zeek's log open/close time: `2026-12-06-14-03-59`. */
function zeekLogTime(d: Date): string {
  const two = (v: number) => String(v).padStart(2, '0');
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}-${two(d.getUTCHours())}-${two(d.getUTCMinutes())}-${two(d.getUTCSeconds())}`;
}
