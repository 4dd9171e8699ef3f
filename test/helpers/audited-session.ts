// What the query API must answer about an MCP session audited through the
// SDK's middleware, asked the same way by the middleware test (the repository's
// build) and the tarball test (the packed package in a scratch project): the
// events of the session with Alice behind the desk client's agent chain, and
// each tool result as its signed event states it.
import assert from 'node:assert/strict';
import { api } from './services.js';

export interface AuditedSession {
  // `type tool outcome` for every event of the session, sorted.
  events: string[];
  server_id: string;
  server_audience: string;
  source: string;
}

export function assertAuditedRows(rows: any[], expected: AuditedSession): void {
  assert.deepEqual(rows.map((r) => `${r.type} ${r.tool_name} ${r.outcome}`).sort(), expected.events);
  for (const row of rows) {
    assert.equal(row.human_sub, 'alice');
    assert.equal(row.human_email, 'alice@acme.example');
    assert.deepEqual(row.actor_chain, ['agent:planner', 'agent:desk']);
    assert.equal(row.agent_name, 'desk-client');
    assert.equal(row.server_id, expected.server_id);
    assert.equal(row.server_audience, expected.server_audience);
    assert.equal(row.source, expected.source);
  }
}

// read_note succeeded and delete_note reported an error, in the signed events.
export async function assertResultsSigned(query: string, rows: any[]): Promise<void> {
  const resultOf = async (tool: string) => {
    const row = rows.find((r) => r.type === 'mcp.tool.result' && r.tool_name === tool);
    assert.ok(row, `a result event for ${tool}`);
    return (await api(query, `/v1/events/${row.id}`)).body.signed.payload.result;
  };
  assert.equal((await resultOf('read_note')).is_error, false);
  assert.equal((await resultOf('delete_note')).is_error, true);
}
