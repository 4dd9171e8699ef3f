// The success answers of the query API, described for its OpenAPI document
// (openapi.ts puts each under its operation). They document, they do not
// serialise: routes answer as they are written, so a schema here can never
// change or drop a field of an answer, and the rate limiter's own answers are
// untouched. test/integration/query-api.test.ts checks the real answers of
// the main routes against these schemas as published in /openapi.json, and
// test/integration/console-serving.test.ts that every operation has one.
import { z } from 'zod';
import { QUARANTINE_REASONS } from '../lib/errors.js';
import { EVENT_COLUMNS } from '../schemas/row.js';
import { FLAGS } from '../schemas/flags.js';
import { reportDefinitionSchema as reportDefinition, runSummarySchema as reportRun } from '../reports/definition.js';

const time = z.string().describe('RFC 3339');
const flags = z.array(z.enum(FLAGS));
const period = z.object({ from: time, to: time });
const nextCursor = z.string().nullable().describe('the next page, or null at the end');

// An event row as the API shows it: every stored column but the stored
// payload copies, typed from the one column specification (schemas/row.ts).
function columnSchema(name: string, sql: string): z.ZodType {
  const nullable = /^Nullable\((.*)\)$/.exec(sql);
  if (nullable) return columnSchema(name, nullable[1]!).nullable();
  if (name === 'flags') return flags;
  if (sql.startsWith('Array(')) return z.array(z.string());
  if (sql.startsWith('Map(')) return z.record(z.string(), z.string());
  if (/^U?Int/.test(sql)) return z.number().int();
  if (sql.startsWith('DateTime64')) return time;
  return z.string();
}
const eventRow = z.object(
  Object.fromEntries(
    Object.entries(EVENT_COLUMNS)
      .filter(([name]) => name !== 'event_json' && name !== 'raw_jws')
      .map(([name, column]) => [name, columnSchema(name, column.sql)]),
  ),
);

const dayCount = z.object({ day: z.string(), events: z.number().int(), allowed: z.number().int(), denied: z.number().int(), flagged: z.number().int() });
const flagCounts = z.record(z.string(), z.number().int()).describe('events per flag');
// Rows of an aggregate: the named fields, and the grouping columns of that view.
const aggregate = <T extends z.core.$ZodLooseShape>(shape: T) => z.looseObject(shape);

const graphNode = z.object({ id: z.string(), kind: z.enum(['human', 'agent', 'server', 'tool']), label: z.string(), first: time, last: time, events: z.number().int() });
const graphEdge = z.object({
  from: z.string(),
  to: z.string(),
  kind: z.enum(['acted_for', 'delegated_to', 'called', 'invoked']),
  first: time,
  last: time,
  events: z.number().int(),
  denied: z.number().int(),
});
const graph = (name: 'session' | 'trace') =>
  z.object({ [name]: z.string(), events: z.number().int(), truncated: z.boolean(), nodes: z.array(graphNode), edges: z.array(graphEdge) });

const jwk = z.record(z.string(), z.unknown());
const key = z.looseObject({ emitter: z.string(), kid: z.string(), alg: z.string(), state: z.string() });

const hold = z.object({
  hold_id: z.string(),
  tenant: z.string(),
  human_sub: z.string().nullable(),
  session_id: z.string().nullable(),
  from: time.nullable(),
  to: time.nullable(),
  reason: z.string(),
  created_by: z.string(),
  created_at: time,
  released_by: z.string().nullable(),
  released_at: time.nullable(),
  release_reason: z.string().nullable(),
});

// How an answer that is not JSON is described: its media type, as text.
export interface MediaAnswer {
  media: string;
  description: string;
}
export interface Answer {
  status?: 200 | 201;
  json?: z.ZodType;
  media?: MediaAnswer[];
  description: string;
}

const text = (media: string, description: string): Answer => ({ media: [{ media, description }], description });

// operationId (openapi.ts: method + path) -> the success answer.
export const ANSWERS: Record<string, Answer> = {
  getV1Events: { description: 'One page of events, newest first', json: z.object({ events: z.array(eventRow), next_cursor: nextCursor }) },
  getV1EventsHistogram: {
    description: 'The search counted in equal buckets over its window',
    json: z.object({
      from: time,
      to: time,
      step_ms: z.number().int(),
      buckets: z.array(z.object({ start: time, events: z.number().int(), denied: z.number().int(), flagged: z.number().int() })),
    }),
  },
  getV1EventsTail: text('text/event-stream', 'Server-Sent Events: `event: event`, `id:` the event id, `data:` one event row as JSON'),
  getV1EventsExport: {
    description: 'Every row of the search in the chosen format',
    media: [
      { media: 'text/csv', description: 'format=csv: a header row, then one row per event (RFC 4180)' },
      { media: 'application/x-ndjson', description: 'format=ndjson, ocsf or cloudevents: one JSON object a line' },
    ],
  },
  getV1EventsId: {
    description: 'One event in full',
    json: z.object({
      event: eventRow,
      flags,
      signed: z.object({ jws: z.string().describe('the signed event as received (compact JWS)'), payload: z.record(z.string(), z.unknown()) }),
      verified_by: z.object({ emitter: z.string(), kid: z.string(), alg: z.string().nullable(), state_now: z.string(), public_jwk: jwk.nullable() }),
    }),
  },
  getV1HumansSubActivity: {
    description: "A human's agents and what they did",
    json: z.object({ human: z.string(), period, agents: z.array(aggregate({ agent_id: z.string(), events: z.number().int() })), flags: flagCounts, by_day: z.array(dayCount) }),
  },
  getV1AgentsIdActivity: {
    description: 'On whose behalf an agent acted, and with what',
    json: z.object({
      agent: z.string(),
      period,
      on_behalf_of: z.array(aggregate({ human_sub: z.string().nullable(), events: z.number().int() })),
      runtime_identities: z.array(aggregate({})),
      tools: z.array(aggregate({ events: z.number().int() })),
      flags: flagCounts,
      by_day: z.array(dayCount),
    }),
  },
  getV1SessionsIdGraph: { description: 'The delegation graph of a session', json: graph('session') },
  getV1TracesIdGraph: { description: 'The delegation graph of a trace', json: graph('trace') },
  getV1SessionsIdGraphDot: text('text/vnd.graphviz', 'The graph as Graphviz DOT'),
  getV1TracesIdGraphDot: text('text/vnd.graphviz', 'The graph as Graphviz DOT'),
  getV1BlastRadius: {
    description: 'What one token, grant, consent or agent reached',
    json: z.object({
      selector: z.record(z.string(), z.string()),
      period,
      summary: aggregate({ events: z.number().int(), denied: z.number().int(), first: time.nullable(), last: time.nullable() }),
      tools: z.array(aggregate({})),
      events: z.array(aggregate({ id: z.string(), time })),
    }),
  },
  getV1Findings: {
    description: 'Flagged events counted',
    json: z.object({
      group_by: z.enum(['flag', 'emitter', 'human', 'agent']),
      period,
      findings: z.array(aggregate({ flag: z.enum(FLAGS), events: z.number().int(), first: time, last: time })),
    }),
  },
  getV1Emitters: {
    description: 'The health of each emitter',
    json: z.object({
      emitters: z.array(
        aggregate({ source: z.string(), last_seq: z.number().int(), open_gaps: z.number().int(), missing_events: z.number().int(), quarantined: z.number().int(), silent: z.boolean(), silent_since: time.nullable() }),
      ),
    }),
  },
  getV1Quarantine: {
    description: 'Refused events, newest first',
    json: z.object({
      period,
      quarantined: z.array(aggregate({ quarantine_id: z.string(), reason: z.enum(Object.keys(QUARANTINE_REASONS) as [string, ...string[]]), received_at: time })),
      next_cursor: nextCursor,
    }),
  },
  getV1AdminAccessLog: {
    description: 'Calls of this API',
    json: z.object({ period, calls: z.array(aggregate({ sub: z.string(), route: z.string(), status: z.number().int(), params: z.unknown() })) }),
  },
  getV1AdminQuarantineDropped: {
    description: 'Refused records counted, not stored, past a quarantine cap',
    json: z.object({
      period,
      dropped: z.array(
        aggregate({
          drop_id: z.string(),
          window_start: time,
          cap: z.enum(['emitter', 'address', 'global']),
          cap_key: z.string(),
          reason: z.string(),
          records: z.number().int(),
          bytes: z.number().int(),
          digest: z.string(),
        }),
      ),
    }),
  },
  getV1AdminWebhooksDeliveries: {
    description: 'Finding webhook deliveries',
    json: z.object({ deliveries: z.array(aggregate({ delivery_id: z.string(), status: z.enum(['pending', 'delivered', 'failed']), created_at: time, next_attempt_at: time, updated_at: time })) }),
  },
  getV1AdminKeys: { description: 'Registered emitter keys (public data)', json: z.object({ keys: z.array(key) }) },
  postV1AdminKeys: { status: 201, description: 'The key registered', json: key },
  postV1AdminKeysJwksUrl: { status: 201, description: 'The JWKS URL registered', json: z.object({ emitter: z.string(), jwks_url: z.string() }) },
  postV1Reports: { status: 201, description: 'The report defined', json: reportDefinition },
  getV1Reports: { description: 'Report definitions', json: z.object({ reports: z.array(reportDefinition) }) },
  patchV1ReportsId: { description: 'The definition as changed', json: reportDefinition },
  postV1ReportsIdPause: { description: 'The definition, paused', json: reportDefinition },
  postV1ReportsIdResume: { description: 'The definition, running on its schedule again', json: reportDefinition },
  deleteV1ReportsId: { description: 'The definition, marked deleted (its runs and files stay)', json: reportDefinition },
  postV1ReportsIdRun: { status: 201, description: 'The run, done', json: reportRun },
  getV1ReportsIdRuns: { description: 'Runs of a report, newest first', json: z.object({ runs: z.array(reportRun) }) },
  getV1ReportsRunsRunIdFile: {
    description: 'The report file of a run',
    media: [
      { media: 'text/csv', description: 'format csv' },
      { media: 'application/x-ndjson', description: 'format ndjson, ocsf or cloudevents' },
    ],
  },
  getV1ReportsRunsRunIdManifest: text('application/jose', 'The signed manifest (compact JWS)'),
  getV1ReportsJwks: { description: 'The report signing key (public)', json: z.object({ keys: z.array(jwk) }) },
  postV1Holds: { status: 201, description: 'The hold placed', json: hold },
  getV1Holds: { description: 'Legal holds, newest first', json: z.object({ holds: z.array(hold) }) },
  postV1HoldsIdRelease: { description: 'The hold, released', json: hold },
  getV1AdminExpiryRecords: {
    description: 'Signed expiry records',
    json: z.object({
      records: z.array(
        aggregate({ record_id: z.string(), tenant: z.string(), expired_before: time, count: z.number().int(), checkpoint_size: z.number().int(), note: z.string(), created_at: time }),
      ),
    }),
  },
  getV1LogCheckpoint: text('text/plain', 'A checkpoint as a C2SP signed note'),
  getV1LogKey: text('text/plain', "The log's verifier key (C2SP signed note)"),
  getV1EventsIdProof: {
    description: "An event's inclusion proof",
    json: z.object({ id: z.string(), leaf_index: z.number().int(), leaf_hash: z.string(), tree_size: z.number().int(), proof: z.array(z.string()), checkpoint: z.string() }),
  },
  getV1LogExport: text('application/x-ndjson', 'Every logged event with its signed bytes and inclusion proof, one JSON object a line'),
  getV1LogConsistency: {
    description: 'A consistency proof between two checkpoints',
    json: z.object({ from: z.number().int(), to: z.number().int(), proof: z.array(z.string()), from_checkpoint: z.string(), to_checkpoint: z.string() }),
  },
};
