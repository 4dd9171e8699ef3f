// What both HTTP services share: refusals by the router answer in the one
// error shape, go through the recorder, and carry actorlog's own request id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createService, MAX_PARAM_LENGTH } from '../../lib/http.js';
import { Metrics } from '../../lib/metrics.js';

test('router refusals: 414 and bad URLs in the error shape, recorded, with actorlog’s request id', async () => {
  const recorded: { id: string; caller?: string; status: number }[] = [];
  const app = createService({
    name: 'test',
    component: 'query',
    logLevel: 'silent',
    metrics: new Metrics(),
    ready: async () => undefined,
    record: async (request, reply, payload) => {
      recorded.push({ id: request.id, caller: request.callerRequestId, status: reply.statusCode });
      return payload;
    },
  });
  app.get('/x/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  await app.ready();
  try {
    const long = await app.inject({ url: `/x/${'a'.repeat(MAX_PARAM_LENGTH + 1)}`, headers: { 'x-request-id': 'mine' } });
    assert.equal(long.statusCode, 414);
    assert.deepEqual(long.json().error.code, 'URI_TOO_LONG');
    const bad = await app.inject({ url: '/x/%E0%A4%A' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'BAD_REQUEST');
    // 300 characters: within the router's limit, for the route's own schema to judge.
    const ok = await app.inject({ url: `/x/${'b'.repeat(300)}`, headers: { 'x-request-id': 'x'.repeat(129) } });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(
      recorded.map((r) => [r.status, r.caller]),
      [
        [414, 'mine'],
        [400, undefined],
        [200, undefined],
      ],
    );
    for (const [i, answer] of [long, bad, ok].entries()) {
      assert.match(String(answer.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(answer.headers['x-request-id'], recorded[i]!.id);
    }
  } finally {
    await app.close();
  }
});
