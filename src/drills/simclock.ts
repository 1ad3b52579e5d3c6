/**
 * Simulated time of a drill against a server whose clock it cannot control. A run covering `D`
 * simulated milliseconds at speed `s` maps simulated time to real time by
 *   real = R0 + (sim − S0) / s,   with S0 = (wall clock when the run is planned) − D,
 * so the whole timeline ends at about the moment the run was planned: every timestamp the drill sends
 * lies in the past (never refused as future), and the server judges it at its own event time. What the
 * drill observes on the server (an alert, an incident, an acknowledgment) happened at a real instant,
 * which the inverse mapping turns back into simulated time, so scorecards report simulated minutes.
 *
 * A drill on a loaded machine can fall behind that schedule. Rather than rush (which would squeeze
 * simulated minutes into less real time than the server needs to react), the drill re-anchors the
 * mapping each time it sends a minute: real time the drill itself spent stalled beyond a minute's
 * share is not simulated time. Anchors only ever move real time later, so timestamps stay in the past.
 */
export class SimClock {
  private readonly anchors: { realMs: number; simMs: number }[];

  private constructor(
    /** Real instant the timeline starts at (R0). */
    readonly realStartMs: number,
    /** Simulated instant of the timeline's first minute (S0). */
    readonly simStartMs: number,
    readonly speed: number,
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a positive number, got ${speed}`);
    this.anchors = [{ realMs: realStartMs, simMs: simStartMs }];
  }

  /** A timeline of `durationMs` simulated that ends at `plannedAtMs` in simulated time and starts in real time at `realStartMs`. */
  static lagging(options: { plannedAtMs: number; durationMs: number; speed: number; realStartMs?: number }): SimClock {
    return new SimClock(options.realStartMs ?? options.plannedAtMs, options.plannedAtMs - options.durationMs, options.speed);
  }

  /** The same simulated start, with the real start moved (the baseline backfill took real time). */
  startingAt(realStartMs: number): SimClock {
    return new SimClock(realStartMs, this.simStartMs, this.speed);
  }

  /**
   * Records that simulated instant `simMs` was reached at real instant `realMs` (the drill sent that
   * minute then). Both must move forward, and real time never earlier than the schedule says.
   */
  anchor(realMs: number, simMs: number): void {
    const last = this.anchors[this.anchors.length - 1]!;
    if (simMs <= last.simMs) throw new RangeError('anchors must move simulated time forward');
    this.anchors.push({ realMs: Math.max(realMs, this.realAt(simMs)), simMs });
  }

  /** Real instant a simulated instant is (or was planned to be) reached. */
  realAt(simMs: number): number {
    let anchor = this.anchors[0]!;
    for (const a of this.anchors) if (a.simMs <= simMs) anchor = a;
    return anchor.realMs + (simMs - anchor.simMs) / this.speed;
  }

  /** Simulated instant of a real one: from the anchor before it at speed, never past the next anchor. */
  simAt(realMs: number): number {
    const anchors = this.anchors;
    let index = 0;
    for (let i = 0; i < anchors.length; i++) if (anchors[i]!.realMs <= realMs) index = i;
    const anchor = anchors[index]!;
    const sim = anchor.simMs + (realMs - anchor.realMs) * this.speed;
    const next = anchors[index + 1];
    return next && anchor.realMs <= realMs ? Math.min(sim, next.simMs) : sim;
  }

  /** Simulated instant of minute `minute` of the timeline (fractional minutes allowed). */
  simAtMinute(minute: number): number {
    return this.simStartMs + minute * 60_000;
  }

  /** Minute of the timeline (fractional) a simulated instant falls at. */
  minuteOfSim(simMs: number): number {
    return (simMs - this.simStartMs) / 60_000;
  }

  /** Minute of the timeline (fractional) a real instant observed on the server corresponds to. */
  minuteOfReal(realMs: number): number {
    return this.minuteOfSim(this.simAt(realMs));
  }
}

/** Parses `60x`, `60`, `0.5x` into a speed factor. */
export function parseSpeed(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)x?$/.exec(text.trim());
  const value = match ? Number(match[1]) : Number.NaN;
  if (!(value > 0) || value > 100_000) throw new RangeError(`speed ${text}: give a factor such as 60x (above 0, at most 100000)`);
  return value;
}
