// Compliance reports: definitions, runs now and on schedule, their history,
// the files and their signed manifests, and the public key that verifies them.
import { z } from 'zod';
import { ActorlogError } from '../../lib/errors.js';
import { EXPORT_EXTENSIONS, EXPORT_MEDIA_TYPES } from '../../schemas/export-formats.js';
import { reportInputSchema } from '../../reports/definition.js';
import type { ReportService } from '../../reports/service.js';
import type { ReportKey } from '../../reports/signing.js';
import { tenantQuery, access, type App, type RouteDeps } from '../context.js';


export function reportRoutes(service: ReportService, key: ReportKey) {
  return (app: App, _deps: RouteDeps): void => {
    const definition = async (tenants: string[] | null, id: string) => {
      const [found] = await service.list(tenants, id);
      if (!found) throw new ActorlogError('NOT_FOUND', `no report ${id}`);
      return found;
    };

    app.post('/v1/reports', { schema: { summary: 'Define a scheduled report', tags: ['compliance'], body: reportInputSchema } }, async (request, reply) => {
      access(request, 'compliance', request.body.tenant);
      const created = await service.create(request.body, request.principal!.sub);
      request.rowsReturned = 1;
      return reply.status(201).send(created);
    });

    app.get('/v1/reports', { schema: { summary: 'Report definitions', tags: ['compliance'], querystring: z.strictObject(tenantQuery) } }, async (request) => {
      const scope = access(request, 'compliance', request.query.tenant);
      const reports = await service.list(scope.tenants);
      request.rowsReturned = reports.length;
      return { reports };
    });

    app.post(
      '/v1/reports/:id/run',
      { schema: { summary: 'Run a report now, over the period ending now', tags: ['compliance'], params: z.object({ id: z.string().min(1).max(64) }) } },
      async (request, reply) => {
        const scope = access(request, 'compliance');
        const run = await service.runNow(await definition(scope.tenants, request.params.id), request.principal!.sub);
        // A failed run is in the history too; the caller gets the error shape.
        if (run.status !== 'ok') throw new ActorlogError('INTERNAL', `report run ${run.run_id} failed: ${run.error}`);
        request.rowsReturned = run.row_count;
        return reply.status(201).send(run);
      },
    );

    app.get(
      '/v1/reports/:id/runs',
      { schema: { summary: 'Run history of a report, newest first', tags: ['compliance'], params: z.object({ id: z.string().min(1).max(64) }) } },
      async (request) => {
        const scope = access(request, 'compliance');
        await definition(scope.tenants, request.params.id);
        const runs = await service.runs(scope.tenants, request.params.id);
        request.rowsReturned = runs.length;
        return { runs };
      },
    );

    const runFile = async (tenants: string[] | null, runId: string) => {
      const file = await service.runFile(tenants, runId);
      if (!file) throw new ActorlogError('NOT_FOUND', `no successful run ${runId}`);
      return file;
    };

    app.get(
      '/v1/reports/runs/:runId/file',
      { schema: { summary: 'Download the report file of a run', tags: ['compliance'], params: z.object({ runId: z.string().min(1).max(64) }) } },
      async (request, reply) => {
        const scope = access(request, 'compliance');
        const file = await runFile(scope.tenants, request.params.runId);
        return reply
          .type(EXPORT_MEDIA_TYPES[file.format])
          .header('content-disposition', `attachment; filename="actorlog-report-${request.params.runId}.${EXPORT_EXTENSIONS[file.format]}"`)
          .send(file.content);
      },
    );

    app.get(
      '/v1/reports/runs/:runId/manifest',
      { schema: { summary: 'The signed manifest (JWS) of a run: period, row count, SHA-256 of the file', tags: ['compliance'], params: z.object({ runId: z.string().min(1).max(64) }) } },
      async (request, reply) => {
        const scope = access(request, 'compliance');
        const file = await runFile(scope.tenants, request.params.runId);
        return reply.type('application/jose').header('content-disposition', `attachment; filename="actorlog-report-${request.params.runId}.manifest.jws"`).send(file.manifest);
      },
    );

    // Public data: any authenticated caller may fetch it.
    app.get('/v1/reports/jwks', { schema: { summary: "actorlog's report signing key (public), to verify manifests", tags: ['compliance'] } }, async () => key.jwks);
  };
}
