// The delegation chain of one session or trace as a graph: human -> agent ->
// sub-agents -> server -> tool, each node and edge with its first and last
// time, how often, and how often denied.
import { z } from 'zod';
import { ActorlogError } from '../../lib/errors.js';
import { fromClickHouseTime } from '../../lib/time.js';
import { chainEvents, type GraphRow } from '../../store/graph.js';
import { tenantQuery, identifier, access, type App, type RouteDeps } from '../context.js';

interface Node {
  id: string;
  kind: 'human' | 'agent' | 'server' | 'tool';
  label: string;
  first: string;
  last: string;
  events: number;
}
interface Edge {
  from: string;
  to: string;
  kind: 'acted_for' | 'delegated_to' | 'called' | 'invoked';
  first: string;
  last: string;
  events: number;
  denied: number;
}

const MAX_EVENTS = 10_000;

export function buildGraph(rows: GraphRow[]): { nodes: Node[]; edges: Edge[] } {
  const nodes = new Map<string, Node>();
  const edges = new Map<string, Edge>();
  const node = (id: string, kind: Node['kind'], label: string, time: string) => {
    const n = nodes.get(id) ?? { id, kind, label, first: time, last: time, events: 0 };
    n.first = time < n.first ? time : n.first;
    n.last = time > n.last ? time : n.last;
    n.events++;
    nodes.set(id, n);
    return id;
  };
  const edge = (from: string, to: string, kind: Edge['kind'], time: string, denied: boolean) => {
    const key = `${from}\u0000${to}`;
    const e = edges.get(key) ?? { from, to, kind, first: time, last: time, events: 0, denied: 0 };
    e.first = time < e.first ? time : e.first;
    e.last = time > e.last ? time : e.last;
    e.events++;
    if (denied) e.denied++;
    edges.set(key, e);
  };
  for (const r of rows) {
    const t = fromClickHouseTime(r.time);
    const denied = r.outcome === 'deny';
    // The path of authority: the human, then the actor chain from the
    // innermost (first delegate) to the outermost (acting now), which is
    // normally the event's agent; the agent closes the path if the chain
    // does not name it.
    const path: string[] = [];
    if (r.human_sub) path.push(node(`human:${r.human_sub}`, 'human', r.human_sub, t));
    for (const actor of [...[...r.actor_chain].reverse(), r.agent_id]) {
      const id = `agent:${actor}`;
      if (actor && !path.includes(id)) path.push(node(id, 'agent', actor, t));
    }
    path.forEach((id, i) => {
      const from = path[i - 1];
      if (from) edge(from, id, from.startsWith('human:') ? 'acted_for' : 'delegated_to', t, denied);
    });
    const last = path[path.length - 1];
    if (r.server_id) {
      const server = node(`server:${r.server_id}`, 'server', r.server_id, t);
      if (last) edge(last, server, 'called', t, denied);
      if (r.tool_name) edge(server, node(`tool:${r.server_id}/${r.tool_name}`, 'tool', r.tool_name, t), 'invoked', t, denied);
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

// Graphviz DOT of a graph: left to right, the node kinds as shapes, edges
// with denials red and dashed (what the console draws).
export function toDot(name: string, id: string, graph: { nodes: Node[]; edges: Edge[] }): string {
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const SHAPES: Record<Node['kind'], string> = { human: 'ellipse', agent: 'box', server: 'component', tool: 'note' };
  const lines = [`digraph ${q(`${name} ${id}`)} {`, '  rankdir=LR;', '  node [fontname="Helvetica"];'];
  for (const n of graph.nodes) lines.push(`  ${q(n.id)} [label=${q(`${n.label}\n${n.kind}, ${n.events} events`)}, shape=${SHAPES[n.kind]}];`);
  for (const e of graph.edges) {
    const label = e.denied > 0 ? `${e.kind} ${e.events} (${e.denied} denied)` : `${e.kind} ${e.events}`;
    lines.push(`  ${q(e.from)} -> ${q(e.to)} [label=${q(label)}${e.denied > 0 ? ', color="#b91c1c", fontcolor="#b91c1c", style=dashed' : ''}];`);
  }
  lines.push('}', '');
  return lines.join('\n');
}

export function graphRoutes(app: App, deps: RouteDeps): void {
  for (const [path, name] of [
    ['/v1/sessions/:id/graph', 'session'],
    ['/v1/traces/:id/graph', 'trace'],
  ] as const) {
    const load = async (request: { params: { id: string }; query: { tenant?: string } } & Parameters<typeof access>[0]) => {
      const scope = access(request, 'analyst', request.query.tenant);
      const rows = await chainEvents(deps.storage, deps.tables, scope, name, request.params.id, MAX_EVENTS);
      if (rows.length === 0) throw new ActorlogError('NOT_FOUND', `no events in ${name} ${request.params.id}`);
      request.rowsReturned = rows.length;
      return { rows, graph: buildGraph(rows) };
    };
    app.get(
      path,
      {
        schema: {
          summary: `The delegation chain of one ${name}: human, agents, sub-agents, servers and tools as nodes and edges with times`,
          tags: ['incident'],
          params: z.object({ id: identifier }),
          querystring: z.strictObject(tenantQuery),
        },
      },
      async (request) => {
        const { rows, graph } = await load(request);
        return { [name]: request.params.id, events: rows.length, truncated: rows.length === MAX_EVENTS, ...graph };
      },
    );
    app.get(
      `${path}.dot`,
      {
        schema: {
          summary: `The same graph of one ${name} as Graphviz DOT (\`dot -Tsvg\` draws it)`,
          tags: ['incident'],
          params: z.object({ id: identifier }),
          querystring: z.strictObject(tenantQuery),
        },
      },
      async (request, reply) => {
        const { graph } = await load(request);
        return reply
          .type('text/vnd.graphviz; charset=utf-8')
          .header('content-disposition', `attachment; filename="actorlog-${name}.dot"`)
          .send(toDot(name, request.params.id, graph));
      },
    );
  }
}
