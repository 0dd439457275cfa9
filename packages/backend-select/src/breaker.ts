/**
 * The circuit breaker of one candidate. A failure is recorded and the call goes to the next
 * candidate; `threshold` failures in a row demote the candidate (open) for a cool-down, after which
 * it may serve again (half-open): one more failure demotes it again for twice as long.
 */
export interface FailureRecord {
  at: number;
  candidate: string;
  op: string;
  code: string;
  message: string;
  /** Where the call went instead (undefined when no other candidate could serve it). */
  servedBy?: string;
}

export class Breaker {
  consecutive = 0;
  demotions = 0;
  /** Clock time before which the candidate is not used (0: closed). */
  openUntil = 0;
  #coolDown: number;

  constructor(
    readonly threshold: number,
    readonly firstCoolDownMs: number,
    /** Longest cool-down, however often it failed. */
    readonly maxCoolDownMs = 600_000,
  ) {
    this.#coolDown = firstCoolDownMs;
  }

  /** Whether the candidate may serve at `now`. */
  allows(now: number): boolean {
    return now >= this.openUntil;
  }

  /** Records a failure; returns the cool-down in ms when this one demotes the candidate. */
  failure(now: number): number | undefined {
    this.consecutive++;
    // On trial after a cool-down (openUntil still set): one failure demotes it again.
    const onTrial = this.openUntil > 0;
    if (!onTrial && this.consecutive < this.threshold) return undefined;
    const coolDown = this.#coolDown;
    this.openUntil = now + coolDown;
    this.demotions++;
    this.#coolDown = Math.min(coolDown * 2, this.maxCoolDownMs);
    this.consecutive = 0;
    return coolDown;
  }

  /** A served call: the breaker closes (a trial that succeeds ends the demotion). */
  success(): void {
    this.consecutive = 0;
    this.openUntil = 0;
  }
}
