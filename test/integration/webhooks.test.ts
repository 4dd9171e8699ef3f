// Signed webhooks for findings, end to end on the real engine: the demo's
// flagged events, and its emitters going silent once it is over, queued for a
// subscriber whose receiver is down, retried, delivered once it is up, each
// verified with actorlog's published key; the delivery log read through the
// admin API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { startAll, type Context, type Running } from '../../cli/services.js';
import { DEMO_EMITTERS, runDemo } from '../../cli/demo.js';
import { tempDir } from '../helpers/fixtures.js';
import { testIdp, type TestIdp } from '../helpers/idp.js';
import { context, eventually, testConfig } from '../helpers/services.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('finding webhooks', { timeout: 240_000 }, () => {
  let ctx: Context;
  let running: Running;
  let idp: TestIdp;
  let admin: string;
  let port: number;
  let receiver: http.Server | undefined;
  const received: Received[] = [];

  const get = async (p: string, token = admin) => {
    const response = await fetch(`${running.queryUrl}${p}`, { headers: { authorization: `Bearer ${token}` } });
    return (await response.json()) as any;
  };

  before(async () => {
    // A port nothing listens on yet: the receiver is down.
    const probe = http.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');

    const file = path.join(tempDir(), 'webhooks.json');
    const url = `http://127.0.0.1:${port}/hooks/actorlog`;
    fs.writeFileSync(
      file,
      JSON.stringify({
        subscriptions: [
          { id: 'soc-acme', tenant: 'acme', kinds: ['flag', 'sequence_gap', 'emitter_silent', 'chain_break'], url },
          { id: 'soc-globex', tenant: 'globex', kinds: ['flag'], url },
        ],
      }),
    );
    idp = await testIdp();
    const config = testConfig({ env: { ...idp.env, WEBHOOKS_FILE: file, WEBHOOK_TICK_MS: '200', WEBHOOK_RETRY_BASE_MS: '300', EMITTER_SILENT_AFTER_MS: '2000' } });
    ctx = await context(config);
    running = await startAll(ctx);
    await runDemo({ endpoint: running.ingestUrl!, dataDir: config.dataDir, registryFile: config.keysFile });
    admin = await idp.token({ sub: 'ada', roles: ['admin', 'analyst'], tenant: 'acme' });
  });
  after(async () => {
    await running.close();
    receiver?.close();
  });

  test('a receiver that is down gets every finding once it is back, each signed with actorlog’s key', async () => {
    // While it is down: attempts fail and are logged, nothing is lost.
    const failing = await eventually(async () => {
      const { deliveries } = await get('/v1/admin/webhooks/deliveries?status=pending');
      return deliveries.some((d: any) => d.attempts >= 2 && d.last_error === 'ECONNREFUSED') ? deliveries : undefined;
    }, 'failed attempts in the delivery log', 60_000);
    assert.ok(failing.every((d: any) => d.tenant === 'acme' && d.subscription_id === 'soc-acme'));
    assert.ok(failing.every((d: any) => !('payload' in d)), 'the log does not repeat the payloads');

    // The flagged events the demo stored: what should arrive.
    const exported = await fetch(`${running.queryUrl}/v1/events/export?format=ndjson`, { headers: { authorization: `Bearer ${admin}` } });
    const flagged = (await exported.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; flags: string[] })
      .filter((e) => e.flags.length > 0);
    assert.ok(flagged.length >= 3, 'the demo raises flags');

    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    receiver.listen(port, '127.0.0.1');
    await once(receiver, 'listening');

    // Every finding delivered, the demo's emitters found silent by the watcher among them.
    const silentSources = () =>
      new Set(received.map((r) => JSON.parse(Buffer.from(r.body.split('.')[1]!, 'base64url').toString()).emitter?.source).filter(Boolean));
    const delivered = await eventually(async () => {
      const { deliveries } = await get('/v1/admin/webhooks/deliveries?limit=1000');
      const done = deliveries.length > 0 && deliveries.every((d: any) => d.status === 'delivered');
      return done && Object.values(DEMO_EMITTERS).every((s) => silentSources().has(s)) ? deliveries : undefined;
    }, 'every delivery delivered, the silent emitters among them', 60_000);
    const eventDeliveries = delivered.filter((d: any) => d.event_id !== '');
    assert.equal(new Set(eventDeliveries.map((d: any) => d.event_id)).size, flagged.length, 'one finding per flagged event');
    assert.ok(delivered.filter((d: any) => d.event_id === '').every((d: any) => d.kind === 'emitter_silent'));

    const jwks = (await get('/v1/reports/jwks')) as JSONWebKeySet;
    const keys = createLocalJWKSet(jwks);
    const ids = new Set<string>();
    for (const { headers, body } of received) {
      assert.equal(headers['content-type'], 'application/jose');
      const { payload, protectedHeader } = await compactVerify(body, keys);
      assert.equal(protectedHeader.typ, 'actorlog-finding+jws');
      const finding = JSON.parse(new TextDecoder().decode(payload));
      assert.equal(finding.delivery_id, headers['actorlog-delivery-id']);
      assert.equal(finding.tenant, 'acme');
      ids.add(finding.delivery_id);
      if (finding.emitter) {
        assert.equal(finding.kind, 'emitter_silent');
        assert.equal(finding.emitter.silent_after_ms, 2000);
        continue;
      }
      const event = flagged.find((e) => e.id === finding.event.id);
      assert.ok(event, `${finding.event.id} is a flagged event`);
      assert.ok(finding.flags.every((f: string) => event.flags.includes(f)));
    }
    assert.deepEqual(ids, new Set(delivered.map((d: any) => d.delivery_id)), 'every delivery received');

    // A forged body does not verify.
    const [first] = received;
    const [h, p, s] = first!.body.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ kind: 'flag', tenant: 'acme' })).toString('base64url')}.${s}`;
    await assert.rejects(compactVerify(forged, keys), /signature verification failed/);
    assert.ok(p);
  });
});
