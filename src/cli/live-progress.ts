import type { LiveProgress } from '../live/live-capture';
import type { CliIo } from './io';

const LOG_INTERVAL_MS = 5000;

/**
 * Live progress on stderr: a line redrawn in place on a terminal, or one line every
 * 5 s when stderr is a log file, so a long capture still shows it is alive.
 */
export class LiveProgressLine {
  private lastLogged = Date.now();
  private drawn = false;

  constructor(private readonly io: CliIo) {}

  update(p: LiveProgress): void {
    const perInterface = p.interfaces.map((i) => `${i.name} ${i.packets.toLocaleString('en-US')}`).join(' · ');
    const c = p.counts;
    const line = `${p.seconds.toFixed(0)} s  packets: ${perInterface}  |  SYN ${c.syns} · SYN-ACK ${c.synAcks} · attempts ended ${c.attemptsEnded}, failed ${c.failed}`;
    if (this.io.stderrIsTTY) {
      this.io.stderr(`\r\x1b[K${line}`);
      this.drawn = true;
    } else if (Date.now() - this.lastLogged >= LOG_INTERVAL_MS) {
      this.lastLogged = Date.now();
      this.io.stderr(`synscope: ${line}\n`);
    }
  }

  clear(): void {
    if (this.drawn) this.io.stderr('\r\x1b[K');
    this.drawn = false;
  }
}
