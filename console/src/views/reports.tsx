// Compliance reports: definitions, a new definition, edit, pause, resume and
// delete one, run now, the run history, downloads of the file and the signed
// manifest, and the manifest verified in the page with the published key.
import { useState } from 'preact/hooks';
import { download, getBytes, getJson, sendJson } from '../api';
import { useEnums } from '../enums';
import { enc, Link, navigate } from '../router';
import { ErrorBox, KeyValues, Section, Status, Table, Time, useApi } from '../ui';
import type { Verdict } from '../verify-report';

type Rec = Record<string, unknown>;

export function ReportsView() {
  const enums = useEnums('/v1/reports', 'post');
  const result = useApi<{ reports: Rec[] }>('/v1/reports');
  const [error, setError] = useState<Error | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const form = new FormData(e.target as HTMLFormElement);
    const body: Rec = {};
    for (const k of ['name', 'kind', 'tenant', 'period', 'schedule', 'format']) body[k] = String(form.get(k) ?? '').trim();
    const search = String(form.get('search') ?? '').trim();
    if (body.kind === 'saved_search') {
      try {
        body.search = search ? JSON.parse(search) : {};
      } catch {
        setError(new Error('the saved search filters are not JSON'));
        return;
      }
    }
    try {
      const created = await sendJson<{ id: string }>('POST', '/v1/reports', body);
      navigate(`/reports/${enc(created.id)}`);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <>
      <h1>Compliance reports</h1>
      <Status loaded={result}>
        {(d) => (
          <Table
            caption="Report definitions"
            rows={d.reports}
            empty="No report is defined yet."
            columns={[
              { key: 'name', label: 'Name', render: (r) => <Link href={`/reports/${enc(String(r.id))}`}>{String(r.name)}</Link> },
              { key: 'kind', label: 'Kind' },
              { key: 'tenant', label: 'Tenant' },
              { key: 'period', label: 'Period' },
              { key: 'schedule', label: 'Schedule (UTC)' },
              { key: 'format', label: 'Format' },
              { key: 'paused', label: 'State', render: (r) => (r.paused ? 'paused' : 'active') },
              { key: 'created_by', label: 'Created by' },
            ]}
          />
        )}
      </Status>
      <Section title="New report">
        <form class="filters" onSubmit={(e) => void create(e)} aria-label="New report">
          <label>
            Name
            <input name="name" required maxLength={200} />
          </label>
          <label>
            Kind
            <select name="kind" required>
              {(enums.kind ?? []).map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </label>
          <label>
            Tenant
            <input name="tenant" required />
          </label>
          <label>
            Period (ISO duration)
            <input name="period" required defaultValue="P7D" />
          </label>
          <label>
            Schedule (cron, UTC)
            <input name="schedule" required defaultValue="0 6 * * 1" />
          </label>
          <label>
            Format
            <select name="format">
              <option value="csv">csv</option>
              <option value="ndjson">ndjson</option>
            </select>
          </label>
          <label class="wide">
            Saved search filters (JSON, for saved_search)
            <input name="search" placeholder='{"flag":"impersonation"}' />
          </label>
          <div class="form-actions">
            <button type="submit" class="primary">
              Create
            </button>
          </div>
        </form>
        {error && <ErrorBox error={error} />}
      </Section>
    </>
  );
}

// Edit a definition (what an update may change: not its tenant or kind).
function EditDefinition({ definition, onSaved, onCancel }: { definition: Rec; onSaved: () => void; onCancel: () => void }) {
  const [error, setError] = useState<Error | null>(null);
  const saved = definition.kind === 'saved_search';
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const form = new FormData(e.target as HTMLFormElement);
    const body: Rec = {};
    for (const k of ['name', 'period', 'schedule', 'format']) body[k] = String(form.get(k) ?? '').trim();
    if (saved) {
      try {
        body.search = JSON.parse(String(form.get('search') ?? '{}').trim() || '{}');
      } catch {
        setError(new Error('the saved search filters are not JSON'));
        return;
      }
    }
    try {
      await sendJson('PATCH', `/v1/reports/${enc(String(definition.id))}`, body);
      onSaved();
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <form class="filters" onSubmit={(e) => void save(e)} aria-label="Edit report">
      <label>
        Name
        <input name="name" required maxLength={200} defaultValue={String(definition.name)} />
      </label>
      <label>
        Period (ISO duration)
        <input name="period" required defaultValue={String(definition.period)} />
      </label>
      <label>
        Schedule (cron, UTC)
        <input name="schedule" required defaultValue={String(definition.schedule)} />
      </label>
      <label>
        Format
        <select name="format" defaultValue={String(definition.format)}>
          {(saved ? ['csv', 'ndjson', 'ocsf', 'cloudevents'] : ['csv', 'ndjson']).map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
      </label>
      {saved && (
        <label class="wide">
          Saved search filters (JSON)
          <input name="search" defaultValue={JSON.stringify(definition.search ?? {})} />
        </label>
      )}
      <div class="form-actions">
        <button type="submit" class="primary">
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error && <ErrorBox error={error} />}
    </form>
  );
}

export function ReportView({ id }: { id: string }) {
  // Deleted definitions too: their runs, files and manifests stay for audit.
  const reports = useApi<{ reports: Rec[] }>('/v1/reports?deleted=true');
  const runs = useApi<{ runs: Rec[] }>(`/v1/reports/${enc(id)}/runs`);
  const [error, setError] = useState<Error | null>(null);
  const [running, setRunning] = useState(false);
  const [verdicts, setVerdicts] = useState<Record<string, Verdict>>({});
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const definition = reports.data?.reports.find((r) => r.id === id);
  const deleted = definition?.deleted as { by: string; at: string } | undefined;

  const change = async (method: 'POST' | 'DELETE', path: string) => {
    setError(null);
    try {
      await sendJson(method, path);
      setConfirmDelete(false);
      reports.reload();
    } catch (err) {
      setError(err as Error);
    }
  };

  const runNow = async () => {
    setError(null);
    setRunning(true);
    try {
      await sendJson('POST', `/v1/reports/${enc(id)}/run`);
      runs.reload();
    } catch (err) {
      setError(err as Error);
    } finally {
      setRunning(false);
    }
  };
  const fetchRun = async (runId: string, what: 'file' | 'manifest') => getBytes(`/v1/reports/runs/${enc(runId)}/${what}`);
  const save = async (r: Rec, what: 'file' | 'manifest') => {
    try {
      const { bytes, type } = await fetchRun(String(r.run_id), what);
      download(what === 'file' ? `actorlog-report-${String(r.run_id)}.${String(r.format)}` : `actorlog-report-${String(r.run_id)}.manifest.jws`, bytes, type);
    } catch (err) {
      setError(err as Error);
    }
  };
  const verify = async (runId: string) => {
    setError(null);
    try {
      const [{ verifyReport }, file, manifest, jwks] = await Promise.all([
        import('../verify-report'),
        fetchRun(runId, 'file'),
        fetchRun(runId, 'manifest'),
        getJson<{ keys: unknown[] }>('/v1/reports/jwks'),
      ]);
      const verdict = await verifyReport(file.bytes, new TextDecoder().decode(manifest.bytes), jwks as Parameters<typeof verifyReport>[2]);
      setVerdicts((v) => ({ ...v, [runId]: verdict }));
    } catch (err) {
      setError(err as Error);
    }
  };

  return (
    <>
      <h1>Report {definition ? <q>{String(definition.name)}</q> : <code>{id}</code>}</h1>
      <p class="lede">
        <Link href="/reports">All reports</Link>
      </p>
      {definition && (
        <Section
          title="Definition"
          actions={
            !deleted && (
              <div class="actions">
                <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
                  Edit
                </button>
                {definition.paused ? (
                  <button type="button" onClick={() => void change('POST', `/v1/reports/${enc(id)}/resume`)}>
                    Resume
                  </button>
                ) : (
                  <button type="button" onClick={() => void change('POST', `/v1/reports/${enc(id)}/pause`)}>
                    Pause
                  </button>
                )}
                <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
                  Delete
                </button>
              </div>
            )
          }
        >
          {deleted && (
            <p class="notice" role="status">
              Deleted by {deleted.by} at <Time value={deleted.at} />. It no longer runs; its runs, files and manifests are kept.
            </p>
          )}
          {definition.paused && !deleted && (
            <p class="notice" role="status">
              Paused: not run on schedule until resumed (Run now still runs it).
            </p>
          )}
          {confirmDelete && (
            <div class="notice" role="alertdialog" aria-label="Confirm delete">
              <p>Delete this definition? It stops running; its runs, files and manifests are kept, and the delete is recorded with your name.</p>
              <div class="actions">
                <button type="button" class="danger" onClick={() => void change('DELETE', `/v1/reports/${enc(id)}`)}>
                  Delete definition
                </button>
                <button type="button" onClick={() => setConfirmDelete(false)}>
                  Keep it
                </button>
              </div>
            </div>
          )}
          {editing && !deleted && (
            <EditDefinition
              definition={definition}
              onSaved={() => {
                setEditing(false);
                reports.reload();
              }}
              onCancel={() => setEditing(false)}
            />
          )}
          <KeyValues
            data={Object.fromEntries(
              Object.entries({ ...definition, paused: definition.paused ? 'yes' : 'no', search: definition.search === undefined ? undefined : JSON.stringify(definition.search), deleted: undefined }).filter(
                ([, v]) => v !== undefined,
              ),
            )}
          />
        </Section>
      )}
      <Section
        title="Runs"
        actions={
          !deleted && (
            <button type="button" class="primary" disabled={running} onClick={() => void runNow()}>
              {running ? 'Running…' : 'Run now'}
            </button>
          )
        }
      >
        {error && <ErrorBox error={error} />}
        <Status loaded={runs}>
          {(d) => (
            <Table
              caption="Runs"
              rows={d.runs}
              rowKey={(r) => String(r.run_id)}
              empty="No run yet."
              columns={[
                { key: 'generated_at', label: 'Generated', render: (r) => <Time value={r.generated_at ?? r.due_at} /> },
                { key: 'trigger', label: 'Trigger' },
                { key: 'status', label: 'Status', render: (r) => (r.status === 'ok' ? <span class="good">ok</span> : <span class="bad" title={String(r.error)}>failed</span>) },
                { key: 'period', label: 'Period', render: (r) => <><Time value={r.period_from} /> – <Time value={r.period_to} /></> },
                { key: 'row_count', label: 'Rows', numeric: true },
                {
                  key: 'actions',
                  label: 'File and manifest',
                  render: (r) =>
                    r.status === 'ok' ? (
                      <div class="actions">
                        <button type="button" onClick={() => void save(r, 'file')}>
                          Download file
                        </button>
                        <button type="button" onClick={() => void save(r, 'manifest')}>
                          Download manifest
                        </button>
                        <button type="button" class="primary" onClick={() => void verify(String(r.run_id))}>
                          Verify
                        </button>
                      </div>
                    ) : (
                      String(r.error)
                    ),
                },
              ]}
            />
          )}
        </Status>
        {Object.entries(verdicts).map(([runId, v]) => (
          <VerdictBox key={runId} runId={runId} verdict={v} />
        ))}
      </Section>
    </>
  );
}

function VerdictBox({ runId, verdict }: { runId: string; verdict: Verdict }) {
  return (
    <div class={verdict.ok ? 'verdict ok' : 'verdict failed'} role="status" aria-live="polite" data-run={runId}>
      <h3>{verdict.ok ? `Run ${runId}: verified` : `Run ${runId}: NOT verified`}</h3>
      {verdict.ok ? (
        <p>The manifest's signature verifies with the published report key, and the file's SHA-256 and size are the ones it names.</p>
      ) : (
        <p>{verdict.reason}</p>
      )}
      <KeyValues
        data={{
          'signed by key (kid)': verdict.kid,
          algorithm: verdict.alg,
          'file SHA-256': verdict.sha256,
          'manifest period': verdict.manifest ? `${String((verdict.manifest.period as Rec)?.from)} – ${String((verdict.manifest.period as Rec)?.to)}` : undefined,
          'manifest rows': verdict.manifest?.row_count,
          'generated by': verdict.manifest?.generated_by,
          'generated at': verdict.manifest?.generated_at,
        }}
      />
    </div>
  );
}
