// A task run on a timer, never overlapping itself. stop() waits for a run in
// flight, so a service closes its storage only after the last query returned:
// closing the embedded engine under a running query is not survivable.
export interface Periodic {
  stop(): Promise<void>;
}

export function every(ms: number, task: () => Promise<unknown>, onError: (err: unknown) => void): Periodic {
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = task()
      .then(() => undefined, onError)
      .finally(() => (inFlight = undefined));
  }, ms);
  // Timers alone never keep a process alive.
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
