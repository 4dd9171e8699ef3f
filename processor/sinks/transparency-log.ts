// A BatchSink: every stored event's signed bytes appended to the transparency
// log, in storage order. A redelivered batch hands its already-stored rows too,
// so a crash between storing and appending is repaired, never a second leaf.
import type { LogAppender } from '../../transparency/appender.js';
import type { BatchSink } from '../runner.js';

export function transparencyLogSink(log: LogAppender): BatchSink {
  return {
    name: 'transparency-log',
    async write(batch) {
      await log.append([...batch.rows, ...batch.redeliveredRows]);
    },
  };
}
