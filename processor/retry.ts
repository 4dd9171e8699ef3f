// Retries a passing failure (storage or broker down) with capped exponential
// backoff and jitter until it succeeds or the caller says to stop. Only an
// error that says it is retriable (lib/errors.ts isRetriable) is tried again;
// anything else is a bug and is thrown at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { isRetriable } from '../lib/errors.js';

export interface RetryOptions {
  initialMs?: number;
  maxMs?: number;
  // Called between attempts; return false to give up (the last error is thrown).
  keepGoing?: () => boolean | Promise<boolean>;
  onError?: (err: unknown, attempt: number) => void;
}

export async function retryUntilDone<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const initial = opts.initialMs ?? 200;
  const max = opts.maxMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      opts.onError?.(err, attempt);
      if (!isRetriable(err)) throw err;
      if (opts.keepGoing && !(await opts.keepGoing())) throw err;
      const ceiling = Math.min(max, initial * 2 ** Math.min(attempt - 1, 20));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }
}
