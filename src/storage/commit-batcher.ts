/** What a batch did for one request: a result, or the error that request alone must see. */
export type BatchOutcome<Result> = { ok: true; value: Result } | { ok: false; error: unknown };

/**
 * Group commit. Requests that arrive while a batch is being written, or in the same turn of the event
 * loop, are written together by one `flush` (one transaction, one commit), and each caller is answered
 * only when `flush` has settled, so after the commit that made its write durable. One batch is in
 * flight at a time: the next one collects everything that arrived meanwhile, so batches grow with load
 * and a lone request waits for nothing but its own transaction.
 *
 * `flush` answers every request separately, so one failing request does not fail the others; if
 * `flush` itself rejects, every request of that batch sees that error.
 *
 * Generic: incident creation batches its requests into multi-row statements with it, and GroupCommit
 * runs arbitrary pieces of work in one shared transaction on top of it.
 */
export class CommitBatcher<Request, Result> {
  private queue: { request: Request; resolve: (value: Result) => void; reject: (error: unknown) => void }[] = [];
  private flushing = false;
  private scheduled = false;

  constructor(
    private readonly flush: (requests: Request[]) => Promise<BatchOutcome<Result>[]>,
    private readonly maxBatch = 64,
  ) {}

  submit(request: Request): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing || this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after the pending I/O callbacks of this loop turn, so requests read from
    // several sockets in one turn join the same batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      const outcomes = await this.flush(batch.map((entry) => entry.request));
      batch.forEach((entry, i) => {
        const outcome = outcomes[i];
        if (!outcome) entry.reject(new Error('group commit: no outcome for a request'));
        else if (outcome.ok) entry.resolve(outcome.value);
        else entry.reject(outcome.error);
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
