// The embedded engine's session keeps the rows a query wrote before it failed
// (a timeout, a throwIf, any error mid-answer) and hands them to the next
// query on the same session as if they were its own: a search after a
// timed-out read would answer another query's rows. The session runs one
// statement at a time anyway, so actorlog queues its statements in the same
// order and, after a failure, runs one throwaway statement that takes the
// leftovers before anything else may read. Streams (streamSelect) open their
// own sessions and end with them, so they need nothing of this.

type Call = (...args: never[]) => Promise<unknown>;

// A queue over one session: wrap(fn) runs fn after every statement queued
// before it, and flushes the session when fn fails.
export function sessionQueue(flush: () => Promise<unknown>): <F extends Call>(fn: F) => F {
  let tail: Promise<unknown> = Promise.resolve();
  return <F extends Call>(fn: F) =>
    ((...args: never[]) => {
      const run = tail.then(async () => {
        try {
          return await fn(...args);
        } catch (err) {
          await flush().catch(() => undefined);
          throw err;
        }
      });
      tail = run.catch(() => undefined);
      return run;
    }) as F;
}
