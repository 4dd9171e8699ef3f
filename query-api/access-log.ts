// The auditors are audited: every answer of the query API is recorded with who
// asked, which endpoint and parameters, the status and how many rows it
// carried, and the row is durable before the answer leaves:
// - a whole answer: one row (`answered`) written before the first byte is sent;
//   if it cannot be written, the caller gets 503 instead of the data;
// - a streamed answer (exports): a row (`stream_started`) before the first
//   byte, and one more when the stream ends (`stream_completed`) or the caller
//   or storage cut it short (`stream_aborted`), with the rows sent so far;
// - refusals the framework answers before any route runs (bad URL, 404, 414)
//   go through the same recorder;
// - refusals at the connection (408 body timeout, 431 headers too large,
//   malformed HTTP) are recorded before their answer too (`recordRefusal`),
//   with the method and path when the request line could be read, and the
//   caller when the headers had arrived and authenticated; no header is stored.
// Secrets in the URL are redacted (lib/redact.ts); the request id is
// actorlog's own, the caller's X-Request-Id is kept beside it.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Storage, Tables } from '../store/client.js';
import { insertAccessLog, type AccessLogRow } from '../store/access-log.js';
import { toClickHouseTime } from '../lib/time.js';
import type { Metrics } from '../lib/metrics.js';
import { ActorlogError } from '../lib/errors.js';
import { redactUrl, redactValues } from '../lib/redact.js';
import type { ConnectionRefusal } from '../lib/http.js';

type AccessPhase = AccessLogRow['phase'];

// Probes answer load balancers every few seconds and carry no data.
const UNRECORDED = new Set(['/healthz', '/readyz', '/metrics']);
const ROUTE_MAX = 512;

export interface AccessLog {
  // A fastify onSend hook: records, then lets the answer go (or replaces it
  // with 503 when the record cannot be written).
  record(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown>;
  // Records a refusal at the connection; false when the row could not be written.
  recordRefusal(refusal: ConnectionRefusal): Promise<boolean>;
  // Resolves when every row of a stream that ended has been written.
  drain(): Promise<void>;
}

function routeOf(request: FastifyRequest): string {
  let pattern: string | undefined;
  try {
    pattern = request.routeOptions.url;
  } catch {
    // Requests the framework refused before routing have no route context.
  }
  return pattern ?? redactUrl(request.url.split('?')[0] ?? '').slice(0, ROUTE_MAX);
}

function paramsOf(request: FastifyRequest): string {
  let query: unknown = {};
  try {
    query = request.query;
  } catch {
    // A query string the framework could not parse: the route records the path only.
  }
  const text = JSON.stringify(redactValues({ ...(request.params as object), ...(query as object) }));
  return text.length > 8192 ? `${text.slice(0, 8192)}…` : text;
}

const isStream = (payload: unknown): payload is NodeJS.ReadableStream & { destroy(): void } =>
  !!payload && typeof (payload as { pipe?: unknown }).pipe === 'function';

export function createAccessLog(storage: Storage, tables: Tables, metrics: Metrics): AccessLog {
  const pending = new Set<Promise<unknown>>();

  const rowOf = (request: FastifyRequest, reply: FastifyReply, phase: AccessPhase): AccessLogRow => {
    const principal = request.principal;
    return {
      time: toClickHouseTime(Date.now() - reply.elapsedTime),
      request_id: request.id,
      caller_request_id: request.callerRequestId ?? '',
      phase,
      sub: principal?.sub ?? '',
      via: principal?.via ?? 'none',
      roles: principal?.roles ?? [],
      tenants: principal ? (principal.tenants === '*' ? ['*'] : principal.tenants) : [],
      method: request.method,
      route: routeOf(request),
      params: paramsOf(request),
      status: reply.statusCode,
      rows: request.rowsReturned ?? (phase === 'answered' ? -1 : 0),
      duration_ms: reply.elapsedTime,
      client_ip: request.ip,
    };
  };

  // Group commit: rows that arrive while an insert is in flight go together
  // in the next one, so a burst costs a few inserts, not one per request, and
  // each caller still waits for its own row to be stored.
  type Row = AccessLogRow;
  let queued: { rows: Row[]; done: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;
  let flushing = false;
  const flush = async (): Promise<void> => {
    if (flushing) return;
    flushing = true;
    while (queued) {
      const batch = queued;
      queued = undefined;
      try {
        await insertAccessLog(storage, tables, batch.rows);
        batch.resolve();
      } catch (err) {
        batch.reject(err);
      }
    }
    flushing = false;
  };
  const insert = (row: Row): Promise<void> => {
    if (!queued) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      queued = { rows: [], done, resolve, reject };
    }
    queued.rows.push(row);
    const { done } = queued;
    void flush();
    return done;
  };

  // Counted as what the caller is answered: storage could not take the record.
  const failed = (request: FastifyRequest, err: unknown) => {
    metrics.error('query', 'STORAGE_UNAVAILABLE');
    request.log.error({ err }, 'access log write failed');
  };

  // The end of a stream: written after the answer (the caller has it already),
  // but awaited by drain() before storage closes.
  const recordEnd = (request: FastifyRequest, reply: FastifyReply, stream: NodeJS.ReadableStream) => {
    // Completed only when the stream itself ended and the answer went out
    // whole; a stream that failed (even if an error answer then went out
    // whole, before its first byte) was aborted.
    let ended = false;
    stream.once('end', () => (ended = true));
    reply.raw.once('close', () => {
      const phase = ended && reply.raw.writableFinished ? 'stream_completed' : 'stream_aborted';
      const write = insert(rowOf(request, reply, phase)).catch((err: unknown) => failed(request, err));
      pending.add(write);
      void write.finally(() => pending.delete(write));
    });
  };

  return {
    async record(request, reply, payload) {
      if (UNRECORDED.has(request.url.split('?')[0] ?? '') || request.refusedAtConnection) return payload;
      const stream = isStream(payload);
      try {
        await insert(rowOf(request, reply, stream ? 'stream_started' : 'answered'));
      } catch (err) {
        failed(request, err);
        // No record, no answer: an auditor's read must never go unrecorded.
        if (stream) payload.destroy();
        reply.code(503).header('content-type', 'application/json; charset=utf-8').removeHeader('content-disposition');
        return JSON.stringify(new ActorlogError('STORAGE_UNAVAILABLE', 'the access log cannot be written').toJSON());
      }
      if (stream) recordEnd(request, reply, payload);
      return payload;
    },
    async recordRefusal(refusal) {
      const { request, reply } = refusal;
      const row: AccessLogRow =
        request && reply
          ? { ...rowOf(request, reply, 'answered'), status: refusal.status, rows: 0 }
          : {
              time: toClickHouseTime(Date.now()),
              request_id: refusal.requestId,
              caller_request_id: refusal.callerRequestId ?? '',
              phase: 'answered',
              sub: '',
              via: 'none',
              roles: [],
              tenants: [],
              method: refusal.method,
              route: (refusal.url.split('?')[0] ?? '').slice(0, ROUTE_MAX),
              params: '{}',
              status: refusal.status,
              rows: 0,
              duration_ms: 0,
              client_ip: refusal.clientIp,
            };
      if (UNRECORDED.has(row.route)) return true;
      try {
        await insert(row);
        return true;
      } catch {
        // Counted here, logged by the caller (lib/http.ts) with the refusal.
        metrics.error('query', 'STORAGE_UNAVAILABLE');
        return false;
      }
    },
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
