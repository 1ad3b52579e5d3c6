/**
 * Token buckets per integration, in this process. With several servers on one database each is given its share
 * of the limit (1 / live replicas, from the cluster heartbeat table), so the cluster as a whole admits the limit
 * when the load balancer spreads a sender's traffic; a bucket per request in the database would cost a row lock
 * on every event of a storm.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; updatedMs: number }>();

  /** Takes `count` tokens (capped at the burst, so a large batch can pass a full bucket); when too few are left, says after how many seconds there will be. */
  take(key: string, perSecond: number, burst: number, nowMs: number, count = 1): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const needed = Math.min(count, burst);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: burst, updatedMs: nowMs };
      this.buckets.set(key, bucket);
    } else {
      const elapsed = Math.max(0, nowMs - bucket.updatedMs) / 1000;
      bucket.tokens = Math.min(burst, bucket.tokens + elapsed * perSecond);
      bucket.updatedMs = nowMs;
    }
    if (bucket.tokens >= needed) {
      bucket.tokens -= needed;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((needed - bucket.tokens) / perSecond)) };
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}
