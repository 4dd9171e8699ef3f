// Live tail: the events matching the search's filters as they are stored,
// read from GET /v1/events/tail (Server-Sent Events). fetch, not
// EventSource, so the token travels in the Authorization header.
import { useEffect, useRef, useState } from 'preact/hooks';
import { qs } from '../api';
import { credential } from '../auth';
import { ErrorBox } from '../ui';
import { EventTable } from './event-table';

type Row = Record<string, unknown> & { id: string };
const KEEP = 200;

export function LiveTail({ filters }: { filters: Record<string, string[]> }) {
  const [on, setOn] = useState(false);
  const [rows, setRows] = useState<Row[]>([]);
  const [error, setError] = useState<Error | null>(null);
  const abort = useRef<AbortController | null>(null);
  const key = JSON.stringify(filters);

  useEffect(() => {
    if (!on) return;
    const controller = new AbortController();
    abort.current = controller;
    setRows([]);
    setError(null);
    void (async () => {
      try {
        const response = await fetch(`/v1/events/tail${qs(filters)}`, { headers: { authorization: `Bearer ${credential()?.token ?? ''}` }, signal: controller.signal });
        if (!response.ok || !response.body) throw new Error(`the live tail answered ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          const blocks = buffer.split('\n\n');
          buffer = blocks.pop() ?? '';
          const fresh = blocks
            .filter((b) => b.startsWith('event: event'))
            .map((b) => JSON.parse(b.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as Row);
          if (fresh.length) setRows((old) => [...fresh.reverse(), ...old].slice(0, KEEP));
        }
      } catch (err) {
        if (!controller.signal.aborted) setError(err as Error);
      }
      if (!controller.signal.aborted) setOn(false);
    })();
    return () => controller.abort();
  }, [on, key]);

  return (
    <section aria-label="Live tail">
      <div class="section-head">
        <h2>Live tail</h2>
        <button type="button" aria-pressed={on} onClick={() => setOn(!on)}>
          {on ? 'Stop live tail' : 'Start live tail'}
        </button>
      </div>
      {error && <ErrorBox error={error} />}
      {on && (
        <>
          <p class="muted" role="status">
            Showing new events matching these filters as they are stored ({rows.length} so far).
          </p>
          {rows.length > 0 && <EventTable rows={rows} />}
        </>
      )}
    </section>
  );
}
