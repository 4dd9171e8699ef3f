// A BatchSink: the refused records of each batch, byte for byte, to the
// dead-letter topic (Kafka mode), with the reason in a header.
import type { Producer } from 'kafkajs';
import { ActorlogError } from '../../lib/errors.js';
import { DLQ_REASON_HEADER } from '../../lib/kafka.js';
import type { BatchSink } from '../runner.js';

export function deadLetterSink(producer: Producer, topic: string): BatchSink {
  return {
    name: 'dead-letter',
    async write(batch) {
      if (batch.quarantined.length === 0) return;
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: batch.quarantined.map((q) => ({
            key: q.claimed_source || null,
            value: Buffer.from(q.raw_base64, 'base64'),
            headers: { [DLQ_REASON_HEADER]: q.reason, 'actorlog-origin': q.quarantine_id },
          })),
        });
      } catch (err) {
        throw new ActorlogError('BUS_UNAVAILABLE', (err as Error).message, { cause: err });
      }
    },
  };
}
