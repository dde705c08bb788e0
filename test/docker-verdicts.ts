import assert from 'node:assert/strict';

/**
 * The verdict checks every real-Docker scenario gets (docker-real-*): one ERROR per failing
 * client with the cause the lab built, ERRORs naming only failing clients, no healthy client
 * in any finding; and what a live run and analyze of its written files must agree on.
 */

export interface Finding {
  code: string;
  confidence: string;
  severity: string;
  explanation: string;
  evidence: Record<string, unknown> & { clients?: string[] };
  remedy: string[];
}

export interface Report {
  summary: { handshakes: Record<string, number> };
  findings: Finding[];
}

export interface VerdictScenario {
  name: string;
  /** Failing client → the code of its one ERROR. */
  failing: Record<string, string>;
  /** Refused client (not a silent failure) → the code of its one WARNING, and no ERROR names it. */
  refused?: Record<string, string>;
  /** Clients that connect: in no finding at all. */
  healthy: string[];
  /** More checks of the report. */
  check?: (r: Report) => void;
}

/** One ERROR per failing client with the lab's cause (one WARNING per refused one), ERRORs name only failing clients, healthy clients nowhere. */
export function checkVerdicts(s: VerdictScenario, r: Report, where: string): void {
  const errors = r.findings.filter((f) => f.severity === 'error');
  for (const [client, code] of Object.entries(s.failing)) {
    const mine = errors.filter((f) => (f.evidence.clients ?? []).includes(client));
    assert.deepEqual(mine.map((f) => f.code), [code], `${where}: ${client} must get exactly one ERROR, ${code}`);
  }
  for (const [client, code] of Object.entries(s.refused ?? {})) {
    const mine = r.findings.filter((f) => (f.evidence.clients ?? []).includes(client));
    assert.deepEqual(mine.map((f) => [f.severity, f.code]), [['warning', code]], `${where}: ${client} must get exactly one finding, a ${code} WARNING`);
  }
  for (const f of errors) {
    for (const c of f.evidence.clients ?? []) assert.ok(c in s.failing, `${where}: ERROR ${f.code} names ${c}, which is not a failing client`);
  }
  for (const f of r.findings) {
    const text = JSON.stringify(f);
    for (const h of s.healthy) assert.ok(!text.includes(`"${h}"`) && !text.includes(`${h}:`), `${where}: healthy client ${h} appears in ${f.code}`);
  }
  s.check?.(r);
}

/** What the live run and analyze must agree on. */
export function verdictOf(r: Report): unknown {
  return { handshakes: r.summary.handshakes, findings: r.findings.map((f) => [f.code, f.severity, f.evidence.clients ?? null, f.remedy]) };
}
