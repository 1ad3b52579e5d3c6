import type { DrillTime } from '../../src/drills/runner.ts';

/**
 * Virtual time shared by an in-process server (its injected clock) and the drills run against it, so a drill's
 * minute limits measure what the server decided, not how busy the machine was. Nobody waits in real time: when
 * every drill is asleep (or done), time jumps to the earliest wake-up, the server runs all the work due by then
 * (`settle`), and the drills due wake up. Between jumps time stands still, however long requests take.
 */
export class VirtualTime {
  private sleepers: { wakeMs: number; wake: () => void }[] = [];
  private participants = 0;
  private advancing = false;

  constructor(
    private nowMs: number,
    private readonly settle: () => Promise<void>,
  ) {}

  readonly clock = (): Date => new Date(this.nowMs);

  /** Time for one drill; call `done` when it has finished, so the others need not wait for it. */
  join(): DrillTime & { done(): void } {
    this.participants++;
    let finished = false;
    return {
      now: () => this.nowMs,
      sleep: (ms) =>
        new Promise<void>((wake) => {
          this.sleepers.push({ wakeMs: this.nowMs + Math.max(0, ms), wake });
          this.advance();
        }),
      done: () => {
        if (finished) return;
        finished = true;
        this.participants--;
        this.advance();
      },
    };
  }

  private advance(): void {
    if (this.advancing || this.sleepers.length === 0 || this.sleepers.length < this.participants) return;
    this.advancing = true;
    void (async () => {
      try {
        this.nowMs = Math.max(this.nowMs, Math.min(...this.sleepers.map((s) => s.wakeMs)));
        await this.settle();
      } finally {
        const due = this.sleepers.filter((s) => s.wakeMs <= this.nowMs);
        this.sleepers = this.sleepers.filter((s) => s.wakeMs > this.nowMs);
        this.advancing = false;
        for (const sleeper of due) sleeper.wake();
      }
    })();
  }
}
