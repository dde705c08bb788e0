/**
 * Unix time with nanosecond steps: one Date.now() reading at start, then the monotonic
 * clock, so packets delivered within one millisecond keep their order and spacing.
 */
export class WallClock {
  private readonly baseNs: bigint;
  private readonly baseMono: bigint;
  sec = 0;
  nsec = 0;

  constructor() {
    this.baseMono = process.hrtime.bigint();
    this.baseNs = BigInt(Date.now()) * 1_000_000n;
  }

  now(): void {
    const ns = this.baseNs + (process.hrtime.bigint() - this.baseMono);
    this.sec = Number(ns / 1_000_000_000n);
    this.nsec = Number(ns % 1_000_000_000n);
  }
}
