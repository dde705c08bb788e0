import type { AnalyzeProgress } from '../analysis';
import type { CliIo } from './io';

/** A one-line progress display on a terminal's stderr, redrawn at most every 200 ms. */
export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = Date.now();

  constructor(private readonly io: CliIo) {}

  update(p: AnalyzeProgress): void {
    const now = Date.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const pct = p.totalBytes ? ` ${((100 * p.bytesRead) / p.totalBytes).toFixed(0)}%` : '';
    const rate = (p.packets / seconds / 1e6).toFixed(1);
    this.io.stderr(`\r\x1b[Kreading${pct}: ${(p.packets / 1e6).toFixed(1)}M packets, ${rate}M packets/s`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.io.stderr('\r\x1b[K');
  }
}
