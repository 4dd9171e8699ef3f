// The services of one mode in a process of their own, for e2e.bench: started
// from the environment the bench forks it with (embedded unless KAFKA_BROKERS
// is set; ingest, the processor and the query API as `actorlog start` runs
// them). It answers the bench over IPC: how many events are stored, which of
// some ids a query already sees, and stop. The bench reads this process's CPU
// and RSS from /proc, so the senders' work is not counted in them.
import { loadConfig } from '../../lib/config.js';
import { openContext, startAll } from '../../cli/services.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { select } from '../../store/client.js';

type Ask = { n: number; op: 'count' } | { n: number; op: 'present'; ids: string[] } | { n: number; op: 'stop' };

const ctx = await openContext(loadConfig(process.env), 'bench');
const running = await startAll(ctx);
const events = ctx.tables.events;

async function answer(ask: Ask): Promise<unknown> {
  if (ask.op === 'count') return Number((await select<{ n: string }>(ctx.storage, `SELECT count() AS n FROM ${events}`))[0]!.n);
  if (ask.op === 'present') {
    if (ask.ids.length === 0) return [];
    return (await select<{ id: string }>(ctx.storage, `SELECT id FROM ${events} WHERE id IN {ids:Array(String)}`, { ids: ask.ids })).map((r) => r.id);
  }
  // Bounded: after a loaded run close() has been seen to take over a minute
  // (not yet explained); the bench says so rather than wait.
  const closed = await Promise.race([running.close().then(() => 'closed'), sleep(20_000).then(() => 'close timed out after 20 s')]);
  return closed;
}

process.on('message', (ask: Ask) => {
  answer(ask).then(
    (value) => {
      process.send!({ n: ask.n, value });
      // exit (not just disconnect) so a CPU profile is written even when
      // close() did not finish.
      if (ask.op === 'stop') process.disconnect(), process.exit(0);
    },
    (err: unknown) => process.send!({ n: ask.n, error: String((err as Error).stack ?? err) }),
  );
});
process.send!({ ready: true, ingestUrl: running.ingestUrl });
