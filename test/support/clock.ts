/** A clock tests move by hand, so every computed duration can be checked against known timestamps. */
export class ManualClock {
  private current: number;
  constructor(start: string | Date = '2026-03-01T12:00:00.000Z') {
    this.current = new Date(start).getTime();
  }
  now = (): Date => new Date(this.current);
  set(at: string | Date): void {
    this.current = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
  advanceMinutes(minutes: number): void {
    this.advance(minutes * 60_000);
  }
  iso(): string {
    return new Date(this.current).toISOString();
  }
}
