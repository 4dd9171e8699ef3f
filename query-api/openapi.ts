// Completes the generated OpenAPI document for client generators: every
// operation gets a stable operationId (from its method and path), its success
// answer (responses.ts) and the error answers it can give, all in the one
// documented error shape.
import { z } from 'zod';
import { ERRORS } from '../lib/errors.js';
import { ANSWERS } from './responses.js';

type Operation = { operationId?: string; responses?: Record<string, unknown>; security?: unknown[] };
type Document = { paths?: Record<string, Record<string, Operation>>; components?: Record<string, Record<string, unknown>> };

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'retriable'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERRORS) },
        message: { type: 'string' },
        retriable: { type: 'boolean' },
      },
    },
  },
};

// Errors every authenticated operation can answer with.
const COMMON: Record<string, string> = {
  '400': 'The request is malformed (BAD_REQUEST, INVALID_CURSOR)',
  '401': 'No valid bearer token (UNAUTHORIZED); the answer carries WWW-Authenticate: Bearer',
  '403': 'The caller lacks the role or the tenant (FORBIDDEN)',
  '404': 'No such resource (NOT_FOUND)',
  '408': 'The request was not received whole within BODY_TIMEOUT_MS (REQUEST_TIMEOUT)',
  '414': 'The URL is too long (URI_TOO_LONG)',
  '429': 'Too many requests from this caller, or from this address without a valid token (RATE_LIMITED); the answer carries Retry-After',
  '431': 'The request headers are too large (HEADERS_TOO_LARGE)',
  '500': 'Internal error (INTERNAL)',
  '503': 'Storage cannot answer now (STORAGE_UNAVAILABLE)',
  '504': 'The query ran longer than QUERY_TIMEOUT_MS (QUERY_TIMEOUT): narrow the window or the filters',
};

// GET /v1/sessions/{id}/graph.dot -> getV1SessionsIdGraphDot
export function operationIdOf(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

export function completeDocument<T extends Document>(doc: T): T {
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, Error: ERROR_SCHEMA } };
  const errorRef = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      op.operationId ??= operationIdOf(method, path);
      op.responses ??= {};
      const answer = ANSWERS[op.operationId];
      if (answer) {
        delete op.responses['200'];
        const content = answer.json
          ? { 'application/json': { schema: z.toJSONSchema(answer.json, { target: 'openapi-3.0', io: 'output' }) } }
          : Object.fromEntries((answer.media ?? []).map((m) => [m.media, { schema: { type: 'string', description: m.description } }]));
        op.responses[String(answer.status ?? 200)] = { description: answer.description, content };
      }
      for (const [status, description] of Object.entries(COMMON)) if (!op.responses[status]) op.responses[status] = errorRef(description);
    }
  }
  return doc;
}
