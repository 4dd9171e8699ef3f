// Version numbers for ReplacingMergeTree state rows: strictly increasing
// within a process and across restarts (milliseconds, then a counter).
let last = 0;

export function nextVersion(now = Date.now()): number {
  last = Math.max(last + 1, now * 1000);
  return last;
}
