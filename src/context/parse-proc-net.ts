/**
 * Counters from /proc/net/netstat or /proc/net/snmp. Both files are pairs of lines,
 * a header ("TcpExt: SyncookiesSent ... ListenOverflows ...") then the values with
 * the same prefix; they become "TcpExt.ListenOverflows": n. A pair whose lengths
 * differ or whose values are not numbers is skipped (a kernel never writes one).
 * Values above 2^53 lose precision, which no counter reaches in practice. With `wanted`,
 * only those counters: a live window reads hundreds of other namespaces, and building every
 * counter of each was most of its time.
 */
export function parseProcNet(text: string, wanted: ReadonlySet<string> | null = null): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = 0; i + 1 < lines.length; i++) {
    const head = splitLine(lines[i]!);
    const values = splitLine(lines[i + 1]!);
    if (head === null || values === null || head.prefix !== values.prefix) continue;
    i++;
    if (head.fields.length !== values.fields.length) continue;
    const numbers = values.fields.map(Number);
    if (numbers.some((n) => !Number.isFinite(n))) continue;
    head.fields.forEach((field, k) => {
      const name = `${head.prefix}.${field}`;
      if (wanted === null || wanted.has(name)) out[name] = numbers[k]!;
    });
  }
  return out;
}

function splitLine(line: string): { prefix: string; fields: string[] } | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  return { prefix: line.slice(0, colon), fields: line.slice(colon + 1).trim().split(/\s+/).filter((f) => f !== '') };
}
