// One stored event as a CloudEvents 1.0 event in structured JSON mode: the
// context attributes the spec requires (specversion, id, source, type) and
// time, with the event as signed by its emitter in `data`. actorlog's own
// event borrows these attribute names but is not a conformant CloudEvent
// (its other top-level members are objects, which extension attributes may
// not be), hence this envelope for brokers that expect one.
import type { EventRow } from './row.js';
import { rowTime } from '../lib/time.js';

export const CLOUDEVENTS_MEDIA_TYPE = 'application/cloudevents+json';

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype: 'application/json';
  // extension attributes: lowercase letters and digits, string values
  tenant: string;
  sequence: string;
  actorlogflags?: string;
  data: unknown;
}

export type CloudEventRow = Pick<EventRow, 'id' | 'source' | 'type' | 'time' | 'tenant' | 'seq' | 'event_json'> & { flags: readonly string[] };

export function toCloudEvent(row: CloudEventRow): CloudEvent {
  return {
    specversion: '1.0',
    id: row.id,
    source: row.source,
    type: `actorlog.${row.type}`,
    time: rowTime(row.time),
    datacontenttype: 'application/json',
    tenant: row.tenant,
    // the CloudEvents sequence extension: a string, ordered per source
    sequence: String(row.seq),
    ...(row.flags.length > 0 ? { actorlogflags: row.flags.join(' ') } : {}),
    data: JSON.parse(row.event_json) as unknown,
  };
}
