// The MCP -> event mapping and the message observer, without a transport.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { eventInputSchema, type EventInput } from '../../schemas/event.js';
import { callEvent, canonicalJson, intentOf, resultEvent, sensitivityOf, tokenOf, type MapOptions, type McpExchange } from '@actorlog/sdk/mcp';
import { DENIED_ERROR_CODE, McpObserver } from '@actorlog/sdk/mcp';

const options: MapOptions = { tenant: 'acme', server: { id: 'files', audience: 'https://files.example/mcp' }, decidedBy: 'server' };
const now = Math.floor(Date.now() / 1000);
// RFC 8693 4.1 Figure 6 shape: the current actor outermost, the prior one nested.
const claims = {
  iss: 'https://idp.example',
  sub: 'alice',
  email: 'alice@example.com',
  aud: 'https://files.example/mcp',
  scope: 'files:read files:write',
  exp: now + 600,
  iat: now,
  client_id: 'desk-agent',
  act: { sub: 'agent:planner', act: { sub: 'agent:desk' } },
};

function exchange(extra: Partial<McpExchange> = {}): McpExchange {
  return {
    method: 'tools/call',
    params: { name: 'delete_file', arguments: { path: '/tmp/a', force: true }, _meta: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } },
    requestId: 7,
    sessionId: 'sess-1',
    claims,
    client: { name: 'claude-code', version: '2.1.0' },
    annotations: { destructiveHint: true, openWorldHint: false },
    startedAt: Date.parse('2026-11-23T06:00:00.000Z'),
    ...extra,
  };
}

const valid = (event: EventInput | null) => {
  assert.ok(event);
  const parsed = eventInputSchema.safeParse(event);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  return event;
};

test('a tools/call maps to mcp.tool.call: human, actor chain, agent, tool, trace, digest', () => {
  const event = valid(callEvent(exchange(), options));
  assert.equal(event.type, 'mcp.tool.call');
  assert.deepEqual(event.human, { sub: 'alice', iss: 'https://idp.example', email: 'alice@example.com' });
  assert.deepEqual(event.actors, [{ id: 'agent:planner' }, { id: 'agent:desk' }]);
  assert.deepEqual(event.agent, { id: 'agent:planner', name: 'claude-code', runtime: { kind: 'token', id: 'desk-agent' } });
  assert.deepEqual(event.target, {
    server: options.server,
    tool: { name: 'delete_file', intent: 'delete', sensitivity: 'restricted' },
  });
  assert.equal(event.decision?.outcome, 'allow');
  assert.equal(event.decision?.decided_by, 'server');
  assert.equal(event.delegation?.mode, 'obo_exchange');
  assert.deepEqual(event.delegation?.scopes, ['files:read', 'files:write']);
  assert.equal(event.context?.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(event.context?.parent_id, '00f067aa0ba902b7');
  assert.match(event.context?.span_id ?? '', /^[0-9a-f]{16}$/);
  assert.equal(event.context?.session_id, 'sess-1');
  assert.equal(event.context?.request_id, '7');
  assert.equal(event.time, '2026-11-23T06:00:00.000Z');
  // Key order does not change the digest; _meta is not part of it.
  const digest = createHash('sha256').update('{"force":true,"path":"/tmp/a"}').digest('hex');
  assert.equal(event.payload?.args_sha256, digest);
  // Claims as the IdP sent them, normalised to the schema; the token itself is never there.
  assert.deepEqual(event.token?.aud, ['https://files.example/mcp']);
  assert.ok(!JSON.stringify(event).includes('eyJ'));
});

test('the result carries isError, the JSON-RPC error code and the duration; call and result share a span', () => {
  const x = exchange();
  const call = valid(callEvent(x, options));
  x.response = { result: { content: [{ type: 'text', text: 'no such file' }], isError: true } };
  x.durationMs = 12.5;
  const result = valid(resultEvent(x, options));
  assert.equal(result.type, 'mcp.tool.result');
  assert.deepEqual(result.result, { is_error: true, duration_ms: 12.5 });
  assert.equal(result.context?.span_id, call.context?.span_id);
  assert.equal(result.time, '2026-11-23T06:00:00.012Z');
  assert.equal(result.payload?.result_sha256, createHash('sha256').update(canonicalJson(x.response.result)).digest('hex'));
  x.response = { error: { code: -32602, message: 'bad arguments' } };
  assert.deepEqual(valid(resultEvent(x, options)).result, { is_error: true, error_code: -32602, duration_ms: 12.5 });
  x.response = { result: { content: [] } };
  assert.equal(valid(resultEvent(x, options)).result?.is_error, false);
});

test('annotations give intent and sensitivity; overrides win; resources and prompts are reads', () => {
  assert.equal(intentOf('tools/call', { readOnlyHint: true, openWorldHint: true }), 'read');
  assert.equal(sensitivityOf('tools/call', { readOnlyHint: true, openWorldHint: true }), 'confidential');
  assert.equal(sensitivityOf('tools/call', { readOnlyHint: true }), 'internal');
  assert.equal(intentOf('tools/call', { readOnlyHint: false, destructiveHint: false }), 'write');
  assert.equal(intentOf('tools/call', {}), 'other');
  assert.equal(intentOf('tools/call', undefined), 'other');
  const overridden = valid(callEvent(exchange(), { ...options, tools: { delete_file: { intent: 'admin', sensitivity: 'internal', required_scopes: ['files:admin'] } } }));
  assert.deepEqual(overridden.target?.tool, { name: 'delete_file', intent: 'admin', sensitivity: 'internal', required_scopes: ['files:admin'] });
  const read = valid(callEvent(exchange({ method: 'resources/read', params: { uri: 'file:///etc/hosts' }, annotations: undefined }), options));
  assert.deepEqual(read.target?.tool, { name: 'resources/read', intent: 'read', resource: 'file:///etc/hosts' });
  const prompt = valid(callEvent(exchange({ method: 'prompts/get', params: { name: 'summarise', arguments: { topic: 'x' } } }), options));
  assert.deepEqual(prompt.target?.tool, { name: 'prompts/get', intent: 'read', resource: 'summarise' });
});

test('without a token: no human, the agent from initialize, delegation none', () => {
  const event = valid(callEvent(exchange({ claims: undefined, params: { name: 'echo' } }), options));
  assert.equal(event.human, null);
  assert.deepEqual(event.agent, { id: 'claude-code/2.1.0', name: 'claude-code', runtime: { kind: 'other', id: 'claude-code/2.1.0' } });
  assert.deepEqual(event.delegation, { mode: 'none', scopes: [] });
  assert.equal(event.token, undefined);
  assert.equal(event.context?.trace_id, undefined);
  // A client-credentials token names the client, not a human.
  assert.equal(valid(callEvent(exchange({ claims: { ...claims, act: undefined, sub: 'desk-agent' } }), options)).human, null);
});

test('claims the schema cannot take are left out, never the event; a malformed traceparent is ignored', () => {
  assert.equal(tokenOf({ iss: 'i', sub: 's' }), undefined);
  const odd = valid(callEvent(exchange({ claims: { ...claims, aud: 42 }, headers: { traceparent: 'not-a-trace' }, params: { name: 'x' } }), options));
  assert.equal(odd.token?.aud, undefined);
  assert.equal(odd.context?.trace_id, undefined);
  const fromHeader = valid(callEvent(exchange({ params: { name: 'x' }, headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }), options));
  assert.equal(fromHeader.context?.trace_id, '0af7651916cd43dd8448eb211c80319c');
});

test('every part can be replaced by a hook, and the event hook can drop an event', () => {
  const hooked = valid(
    callEvent(exchange(), {
      ...options,
      hooks: {
        human: () => ({ sub: 'bob', iss: 'corp' }),
        tool: (_x, tool) => ({ ...tool, resource: 'bucket-1' }),
        context: (_x, ctx) => ({ ...ctx, client_ip: '10.0.0.1' }),
        event: (_x, e) => ({ ...e, attrs: { ...e.attrs, team: 'ops' } }),
      },
    }),
  );
  assert.equal(hooked.human?.sub, 'bob');
  assert.equal(hooked.target?.tool?.resource, 'bucket-1');
  assert.equal(hooked.context?.client_ip, '10.0.0.1');
  assert.equal(hooked.attrs?.team, 'ops');
  assert.equal(callEvent(exchange(), { ...options, hooks: { event: () => null } }), null);
});

function recorder(fail = false) {
  const events: EventInput[] = [];
  return {
    events,
    emit: async (event: EventInput) => {
      if (fail) throw new Error('ingest down');
      events.push(event);
      return 'id';
    },
  };
}

test('the observer pairs requests with answers per session and learns annotations from tools/list', async () => {
  const sink = recorder();
  const observer = new McpObserver({ ...options, emitter: sink });
  assert.equal(observer.fromClient({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { clientInfo: { name: 'inspector', version: '1' } } }, { sessionId: 's' }), undefined);
  observer.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { sessionId: 's' });
  observer.fromServer({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'get', annotations: { readOnlyHint: true } }] } }, 's');
  observer.fromClient({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get', arguments: {} } }, { sessionId: 's' });
  // Same id in another session: a different exchange.
  observer.fromClient({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'other' } }, { sessionId: 't' });
  observer.fromServer({ jsonrpc: '2.0', id: 2, result: { content: [] } }, 's');
  // Notifications and unknown methods pass without an event.
  assert.equal(observer.fromClient({ jsonrpc: '2.0', method: 'notifications/initialized' }, { sessionId: 's' }), undefined);
  assert.equal(observer.fromClient({ jsonrpc: '2.0', id: 9, method: 'vendor/thing' }, { sessionId: 's' }), undefined);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sink.events.map((e) => `${e.type} ${e.target?.tool?.name} ${e.target?.tool?.intent} ${e.context?.session_id}`), [
    'mcp.tool.call get read s',
    'mcp.tool.call other other t',
    'mcp.tool.result get read s',
  ]);
  assert.equal(sink.events[0]!.agent?.id, 'inspector/1');
  assert.deepEqual({ calls: observer.stats.calls, results: observer.stats.results, emitted: observer.stats.emitted }, { calls: 2, results: 1, emitted: 3 });
});

test('a denying policy answers the client itself and records a deny; a throwing policy denies', async () => {
  const sink = recorder();
  const observer = new McpObserver({
    ...options,
    emitter: sink,
    authorize: ({ params }) => (params.name === 'rm' ? { outcome: 'deny', reason: 'not on a Friday', policy: { id: 'fs', version: '3' } } : { outcome: 'allow' }),
  });
  const denial = observer.fromClient({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'rm' } }, { sessionId: 's' });
  assert.deepEqual(denial, { jsonrpc: '2.0', id: 'a', error: { code: DENIED_ERROR_CODE, message: 'denied by policy: not on a Friday' } });
  assert.equal(observer.fromClient({ jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'ls' } }, { sessionId: 's' }), undefined);
  const throwing = new McpObserver({ ...options, emitter: sink, authorize: async () => Promise.reject(new Error('opa down')) });
  const late = await throwing.fromClient({ jsonrpc: '2.0', id: 'c', method: 'tools/call', params: { name: 'ls' } }, { sessionId: 's' });
  assert.equal(late?.error.code, DENIED_ERROR_CODE);
  await new Promise((resolve) => setImmediate(resolve));
  const decisions = sink.events.map((e) => [e.target?.tool?.name, e.decision?.outcome, e.decision?.policy.id, e.decision?.reason]);
  assert.deepEqual(decisions, [
    ['rm', 'deny', 'fs', 'not on a Friday'],
    ['ls', 'allow', 'mcp-audit', undefined],
    ['ls', 'deny', 'mcp-audit', 'policy failed: opa down'],
  ]);
});

test('an emitter that fails is counted, never thrown', async () => {
  const errors: Error[] = [];
  const observer = new McpObserver({ ...options, emitter: recorder(true), onEmitError: (err) => errors.push(err) });
  const sync = new McpObserver({ ...options, emitter: { emit: () => { throw new Error('sync'); } } });
  assert.equal(observer.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }, { sessionId: 's' }), undefined);
  assert.equal(sync.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }, { sessionId: 's' }), undefined);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(observer.stats.emitFailed, 1);
  assert.equal(sync.stats.emitFailed, 1);
  assert.equal(errors[0]?.message, 'ingest down');
});

test('events are mapped and emitted after the message has gone on, in order, a burst spread over turns', async () => {
  const sink = recorder();
  const observer = new McpObserver({ ...options, emitter: sink });
  for (let i = 0; i < 200; i++) {
    observer.fromClient({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: `t${i}` } }, { sessionId: 's' });
    observer.fromServer({ jsonrpc: '2.0', id: i, result: { content: [] } }, 's');
  }
  assert.equal(sink.events.length, 0, 'nothing signed on the message path');
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(sink.events.length > 0 && sink.events.length < 400, `one turn emits a slice, not all (${sink.events.length})`);
  for (let turn = 0; turn < 20 && sink.events.length < 400; turn++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    sink.events.slice(0, 4).map((e) => `${e.type} ${e.target?.tool?.name}`),
    ['mcp.tool.call t0', 'mcp.tool.result t0', 'mcp.tool.call t1', 'mcp.tool.result t1'],
  );
  assert.equal(sink.events.length, 400);
  assert.equal(sink.events[399]!.target?.tool?.name, 't199');
});
