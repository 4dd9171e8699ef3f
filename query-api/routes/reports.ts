// Compliance reports: definitions (create, change, pause, resume, delete),
// runs now and on schedule, their history, the files and their signed
// manifests, and the public key that verifies them. A deleted definition
// keeps its runs, files and manifests: run history is never deleted.
import fs from 'node:fs';
import { z } from 'zod';
import { ActorlogError } from '../../lib/errors.js';
import { EXPORT_EXTENSIONS, EXPORT_MEDIA_TYPES } from '../../schemas/export-formats.js';
import { reportDefinitionSchema, reportInputSchema, reportUpdateSchema, runSummarySchema } from '../../reports/definition.js';
import type { ReportService } from '../../reports/service.js';
import type { ReportKey } from '../../reports/signing.js';
import { tenantQuery, access, type App, type RouteDeps } from '../context.js';

const reportId = z.object({ id: z.string().min(1).max(64) });
const runId = z.object({ runId: z.string().min(1).max(64) });
const tags = ['compliance'];

export function reportRoutes(service: ReportService, key: ReportKey) {
  return (app: App, _deps: RouteDeps): void => {
    app.post(
      '/v1/reports',
      {
        schema: {
          summary: 'Define a scheduled report (at most REPORT_MAX_DEFINITIONS per tenant; a schedule at most every REPORT_MIN_INTERVAL_MINUTES)',
          tags,
          body: reportInputSchema,
          response: { 201: reportDefinitionSchema },
        },
      },
      async (request, reply) => {
        access(request, 'compliance', request.body.tenant);
        const created = await service.create(request.body, request.principal!.sub);
        request.rowsReturned = 1;
        return reply.status(201).send(created);
      },
    );

    app.get(
      '/v1/reports',
      {
        schema: {
          summary: 'Report definitions; with deleted=true the deleted ones too, with who deleted them and when',
          tags,
          querystring: z.strictObject({ ...tenantQuery, deleted: z.enum(['true', 'false']).default('false') }),
          response: { 200: z.object({ reports: z.array(reportDefinitionSchema) }) },
        },
      },
      async (request) => {
        const scope = access(request, 'compliance', request.query.tenant);
        const reports = await service.list(scope.tenants, { withDeleted: request.query.deleted === 'true' });
        request.rowsReturned = reports.length;
        return { reports };
      },
    );

    app.patch(
      '/v1/reports/:id',
      {
        schema: {
          summary: 'Change a definition: name, period, schedule, format or search (not its tenant or kind)',
          tags,
          params: reportId,
          body: reportUpdateSchema,
          response: { 200: reportDefinitionSchema },
        },
      },
      async (request) => {
        const scope = access(request, 'compliance');
        const updated = await service.update(scope.tenants, request.params.id, request.body, request.principal!.sub);
        request.rowsReturned = 1;
        return updated;
      },
    );

    for (const [action, paused] of [
      ['pause', true],
      ['resume', false],
    ] as const) {
      app.post(
        `/v1/reports/:id/${action}`,
        {
          schema: {
            summary: paused ? 'Pause a definition: it is not run on schedule until resumed (it can still be run now)' : 'Resume a paused definition',
            tags,
            params: reportId,
            response: { 200: reportDefinitionSchema },
          },
        },
        async (request) => {
          const scope = access(request, 'compliance');
          const changed = await service.setPaused(scope.tenants, request.params.id, paused, request.principal!.sub);
          request.rowsReturned = 1;
          return changed;
        },
      );
    }

    app.delete(
      '/v1/reports/:id',
      {
        schema: {
          summary: 'Delete a definition: it is no longer listed or run; who deleted it and when are kept, and its runs, files and manifests stay',
          tags,
          params: reportId,
          response: { 200: reportDefinitionSchema },
        },
      },
      async (request) => {
        const scope = access(request, 'compliance');
        const deleted = await service.delete(scope.tenants, request.params.id, request.principal!.sub);
        request.rowsReturned = 1;
        return deleted;
      },
    );

    app.post(
      '/v1/reports/:id/run',
      {
        schema: {
          summary: 'Run a report now, over the period ending now (429/503 when as many exports and runs as allowed are running)',
          tags,
          params: reportId,
          response: { 201: runSummarySchema },
        },
      },
      async (request, reply) => {
        const scope = access(request, 'compliance');
        const run = await service.runNow(await service.get(scope.tenants, request.params.id), request.principal!.sub);
        // A failed run is in the history too; the caller gets the error shape.
        if (run.status !== 'ok') throw new ActorlogError('INTERNAL', `report run ${run.run_id} failed: ${run.error}`);
        request.rowsReturned = run.row_count;
        return reply.status(201).send(run);
      },
    );

    app.get(
      '/v1/reports/:id/runs',
      {
        schema: {
          summary: 'Run history of a report, newest first (of a deleted report too)',
          tags,
          params: reportId,
          response: { 200: z.object({ runs: z.array(runSummarySchema) }) },
        },
      },
      async (request) => {
        const scope = access(request, 'compliance');
        await service.get(scope.tenants, request.params.id, { withDeleted: true });
        const runs = await service.runs(scope.tenants, request.params.id);
        request.rowsReturned = runs.length;
        return { runs };
      },
    );

    const runFile = async (tenants: string[] | null, id: string) => {
      const file = await service.runFile(tenants, id);
      if (!file) throw new ActorlogError('NOT_FOUND', `no successful run ${id}`);
      return file;
    };

    app.get(
      '/v1/reports/runs/:runId/file',
      { schema: { summary: 'Download the report file of a run', tags, params: runId } },
      async (request, reply) => {
        const scope = access(request, 'compliance');
        const file = await runFile(scope.tenants, request.params.runId);
        let body: string | fs.ReadStream;
        if ('path' in file) {
          // Opened before answering, so a missing file is an error answer, not a cut stream.
          const handle = await fs.promises.open(file.path, 'r').catch(() => {
            throw new ActorlogError('NOT_FOUND', `the file of run ${request.params.runId} is not in the reports folder`);
          });
          const { size } = await handle.stat();
          void reply.header('content-length', size);
          body = handle.createReadStream();
        } else body = file.content;
        return reply
          .type(EXPORT_MEDIA_TYPES[file.format])
          .header('content-disposition', `attachment; filename="actorlog-report-${request.params.runId}.${EXPORT_EXTENSIONS[file.format]}"`)
          .send(body);
      },
    );

    app.get(
      '/v1/reports/runs/:runId/manifest',
      { schema: { summary: 'The signed manifest (JWS) of a run: period, row count, SHA-256 of the file, its contents and coverage', tags, params: runId } },
      async (request, reply) => {
        const scope = access(request, 'compliance');
        const file = await runFile(scope.tenants, request.params.runId);
        return reply.type('application/jose').header('content-disposition', `attachment; filename="actorlog-report-${request.params.runId}.manifest.jws"`).send(file.manifest);
      },
    );

    // Public data: any authenticated caller may fetch it.
    app.get('/v1/reports/jwks', { schema: { summary: "actorlog's report signing key (public), to verify manifests", tags } }, async () => key.jwks);
  };
}
