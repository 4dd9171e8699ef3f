// Five-field cron (minute hour day-of-month month day-of-week, UTC) with
// `*`, numbers, ranges `a-b`, lists `a,b` and steps `*/n` or `a-b/n`; when both
// day fields are restricted a day matches either, as in classic cron.
export interface Cron {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  anyDay: boolean;
  anyWeekday: boolean;
}

const FIELDS: [string, number, number][] = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];

function field(text: string, [name, min, max]: [string, number, number]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`cron ${name}: cannot read "${part}"`);
    const from = m[1] === '*' ? min : Number(m[2]);
    const to = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < min || to > max || from > to || step < 1) throw new Error(`cron ${name}: "${part}" is outside ${min}-${max}`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

export function parseCron(expression: string): Cron {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error('cron needs five fields: minute hour day-of-month month day-of-week');
  const [minutes, hours, days, months, weekdays] = parts.map((p, i) => field(p, FIELDS[i]!)) as Set<number>[];
  if (weekdays!.has(7)) weekdays!.add(0); // 7 is Sunday too
  return { minutes: minutes!, hours: hours!, days: days!, months: months!, weekdays: weekdays!, anyDay: parts[2] === '*', anyWeekday: parts[4] === '*' };
}

function dayMatches(cron: Cron, date: Date): boolean {
  if (!cron.months.has(date.getUTCMonth() + 1)) return false;
  const dom = cron.days.has(date.getUTCDate());
  const dow = cron.weekdays.has(date.getUTCDay());
  if (cron.anyDay && cron.anyWeekday) return true;
  if (cron.anyDay) return dow;
  if (cron.anyWeekday) return dom;
  return dom || dow;
}

const desc = (set: Set<number>) => [...set].sort((a, b) => b - a);

// The latest minute at or before `now` that the schedule names, looking back
// at most `lookbackDays`; undefined if there is none.
export function lastDueAt(cron: Cron, now: number, lookbackDays = 400): number | undefined {
  const start = new Date(now);
  const today = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  for (let d = 0; d <= lookbackDays; d++) {
    const day = new Date(today - d * 86_400_000);
    if (!dayMatches(cron, day)) continue;
    for (const hour of desc(cron.hours)) {
      for (const minute of desc(cron.minutes)) {
        const at = day.getTime() + hour * 3_600_000 + minute * 60_000;
        if (at <= now) return at;
      }
    }
  }
  return undefined;
}

// ISO 8601 durations of whole weeks, days or hours: P7D, P1W, PT12H, P1DT6H.
export function parsePeriod(text: string): number {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(\d+)H)?$/.exec(text);
  if (!m || text === 'P' || text === 'PT') throw new Error(`period "${text}" is not like P7D, P1W or PT12H`);
  const ms = (Number(m[1] ?? 0) * 7 * 24 + Number(m[2] ?? 0) * 24 + Number(m[3] ?? 0)) * 3_600_000;
  if (ms <= 0 || ms > 366 * 86_400_000) throw new Error(`period "${text}" must be between 1 hour and 366 days`);
  return ms;
}

// The shortest time between two consecutive runs a schedule names, in
// minutes: the closest two times of one day, or the last of a day and the
// first of the next day that runs (looked for over four years, for 29 February).
export function shortestIntervalMinutes(cron: Cron): number {
  const times = [...cron.hours].flatMap((h) => [...cron.minutes].map((m) => h * 60 + m)).sort((a, b) => a - b);
  let shortest = Infinity;
  for (let i = 1; i < times.length; i++) shortest = Math.min(shortest, times[i]! - times[i - 1]!);
  const start = Date.UTC(2000, 0, 1); // a leap year's start, so Feb 29 is seen
  let previous: number | undefined;
  for (let d = 0; d <= 400 * 4; d++) {
    if (!dayMatches(cron, new Date(start + d * 86_400_000))) continue;
    if (previous !== undefined) shortest = Math.min(shortest, (d - previous) * 1440 + times[0]! - times[times.length - 1]!);
    previous = d;
    if (shortest <= 1440 - (times[times.length - 1]! - times[0]!)) break; // no pair of days can be closer
  }
  return shortest;
}
