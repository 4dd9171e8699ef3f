// The delegation chain of one session or trace, drawn: human -> agents ->
// sub-agents -> server -> tool, denials in red, flagged nodes marked with
// their flags. Exportable as SVG and PNG, and as Graphviz DOT from the API.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { download, getBytes, qs } from '../api';
import { enc, Link, navigate } from '../router';
import { layout, NODE_H, NODE_W, type GraphEdge, type GraphNode, type Layout, type Placed, type Point } from '../graph-layout';
import { ErrorBox, FlagList, hrefs, Section, Status, Table, Time, useApi } from '../ui';
import { EventTable } from './event-table';

interface Graph { events: number; truncated: boolean; nodes: GraphNode[]; edges: GraphEdge[] }
type Row = Record<string, unknown> & { id: string };

const COLORS: Record<GraphNode['kind'], string> = { human: '#1d4ed8', agent: '#047857', server: '#7c3aed', tool: '#374151' };

// Which flags touched each node, from the events of the session.
function flagsByNode(events: Row[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (id: string, flags: string[]) => {
    const s = out.get(id) ?? new Set<string>();
    flags.forEach((f) => s.add(f));
    out.set(id, s);
  };
  for (const e of events) {
    const flags = (e.flags as string[] | undefined) ?? [];
    if (flags.length === 0) continue;
    if (e.human_sub) add(`human:${String(e.human_sub)}`, flags);
    if (e.agent_id) add(`agent:${String(e.agent_id)}`, flags);
    if (e.server_id) add(`server:${String(e.server_id)}`, flags);
    if (e.server_id && e.tool_name) add(`tool:${String(e.server_id)}/${String(e.tool_name)}`, flags);
  }
  return out;
}

const trim = (s: string, n = 24) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function hrefOf(n: GraphNode, kind: 'session' | 'trace', id: string): string {
  if (n.kind === 'human') return hrefs.human(n.label);
  if (n.kind === 'agent') return hrefs.agent(n.label);
  if (n.kind === 'server') return hrefs.search({ [kind]: id, server: n.label });
  return hrefs.search({ [kind]: id, tool: n.label });
}

// Laid out once per graph; elkjs is fetched with the first graph drawn.
function useLayout(graph: Graph): { layout: Layout | null; error: Error | null } {
  const [state, setState] = useState<{ graph: Graph | null; layout: Layout | null; error: Error | null }>({ graph: null, layout: null, error: null });
  useEffect(() => {
    let live = true;
    layout(graph.nodes, graph.edges).then(
      (l) => live && setState({ graph, layout: l, error: null }),
      (error: Error) => live && setState({ graph, layout: null, error }),
    );
    return () => {
      live = false;
    };
  }, [graph]);
  return state.graph === graph ? state : { layout: null, error: null };
}

const polyline = (points: Point[]) => points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ');

function GraphSvg({ graph, drawn, flags, kind, id, svgRef }: { graph: Graph; drawn: Layout; flags: Map<string, Set<string>>; kind: 'session' | 'trace'; id: string; svgRef: { current: SVGSVGElement | null } }) {
  const { nodes, edges, width, height } = drawn;
  const at = new Map<string, Placed>(nodes.map((n) => [n.id, n]));
  return (
    <svg ref={svgRef} xmlns="http://www.w3.org/2000/svg" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="group" aria-labelledby="graph-title" font-family="system-ui, sans-serif" font-size="12">
      <title id="graph-title">{`Delegation graph of ${kind} ${id}: ${graph.nodes.length} nodes, ${graph.edges.length} edges`}</title>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280" />
        </marker>
        <marker id="arrow-deny" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#b91c1c" />
        </marker>
      </defs>
      <rect width={width} height={height} fill="#ffffff" />
      {edges.map((e) => {
        const a = at.get(e.from);
        const b = at.get(e.to);
        if (!a || !b || e.points.length < 2) return null;
        const denied = e.denied > 0;
        return (
          <g key={`${e.from}->${e.to}`} class="edge">
            <title>{`${a.label} ${e.kind.replace('_', ' ')} ${b.label}: ${e.events} events, ${e.denied} denied`}</title>
            <path d={polyline(e.points)} fill="none" stroke={denied ? '#b91c1c' : '#6b7280'} stroke-width={denied ? 2 : 1.5} stroke-dasharray={denied ? '6 3' : undefined} marker-end={denied ? 'url(#arrow-deny)' : 'url(#arrow)'} />
            <text x={e.label.x} y={e.label.y} text-anchor="middle" fill={denied ? '#b91c1c' : '#374151'} font-size="11">
              {e.text}
            </text>
          </g>
        );
      })}
      {nodes.map((n) => {
        const f = [...(flags.get(n.id) ?? [])];
        return (
          <a key={n.id} class="node" href={hrefOf(n, kind, id)} onClick={(ev: MouseEvent) => { ev.preventDefault(); navigate(hrefOf(n, kind, id)); }}>
            <title>{`${n.kind} ${n.label}\n${n.events} events, ${n.first} to ${n.last}${f.length ? `\nflags: ${f.join(', ')}` : ''}`}</title>
            <rect x={n.x} y={n.y} width={NODE_W} height={NODE_H} rx="6" fill="#ffffff" stroke={f.length ? '#b91c1c' : COLORS[n.kind]} stroke-width={f.length ? 3 : 1.5} />
            <rect x={n.x} y={n.y} width="6" height={NODE_H} rx="2" fill={COLORS[n.kind]} />
            <text x={n.x + 14} y={n.y + 18} fill="#111827" font-weight="600">
              {trim(n.label)}
            </text>
            <text x={n.x + 14} y={n.y + 35} fill={f.length ? '#b91c1c' : '#4b5563'} font-size="11">
              {f.length ? `${n.kind} · ⚑ ${trim(f.join(', '), 22)}` : `${n.kind} · ${n.events} events`}
            </text>
          </a>
        );
      })}
    </svg>
  );
}

function DrawnGraph(props: { graph: Graph; flags: Map<string, Set<string>>; kind: 'session' | 'trace'; id: string; svgRef: { current: SVGSVGElement | null } }) {
  const { layout: drawn, error } = useLayout(props.graph);
  if (error) return <ErrorBox error={error} />;
  if (!drawn) return <p class="muted" role="status">Laying out the graph…</p>;
  return <GraphSvg {...props} drawn={drawn} />;
}

// The drawn graph as a PNG: the SVG rendered by the browser into a canvas at
// twice its size (sharp when printed or zoomed into a ticket), less for a
// graph so large that twice would pass what a browser canvas can hold.
const MAX_SIDE = 16_384;
const MAX_PIXELS = 40_000_000;
export function pngScale(width: number, height: number): number {
  return Math.min(2, MAX_SIDE / Math.max(width, height, 1), Math.sqrt(MAX_PIXELS / Math.max(width * height, 1)));
}

async function svgToPng(svg: SVGSVGElement): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(svg)], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const { width, height } = svg.viewBox.baseVal;
    const scale = pngScale(width, height);
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * scale);
    canvas.height = Math.ceil(height * scale);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('this browser cannot draw into a canvas');
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the PNG could not be made'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

export function GraphView({ kind, id, tenant }: { kind: 'session' | 'trace'; id: string; tenant: string | null }) {
  const graph = useApi<Graph>(`/v1/${kind}s/${enc(id)}/graph${qs({ tenant })}`);
  const events = useApi<{ events: Row[] }>(`/v1/events${qs({ [kind]: id, tenant, limit: 1000, since: undefined })}`);
  const flags = useMemo(() => flagsByNode(events.data?.events ?? []), [events.data]);
  const svgRef = useRef<SVGSVGElement | null>(null);
  const [exportError, setExportError] = useState<Error | null>(null);
  const flagged = (events.data?.events ?? []).filter((e) => ((e.flags as string[]) ?? []).length > 0);
  const denied = (events.data?.events ?? []).filter((e) => e.outcome === 'deny');

  const exportSvg = () => {
    if (!svgRef.current) return;
    const xml = new XMLSerializer().serializeToString(svgRef.current);
    download(`actorlog-${kind}-${id}.svg`, `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`, 'image/svg+xml');
  };
  const exportPng = async () => {
    setExportError(null);
    try {
      if (!svgRef.current) return;
      download(`actorlog-${kind}-${id}.png`, await svgToPng(svgRef.current), 'image/png');
    } catch (err) {
      setExportError(err as Error);
    }
  };
  const exportDot = async () => {
    setExportError(null);
    try {
      const { bytes } = await getBytes(`/v1/${kind}s/${enc(id)}/graph.dot${qs({ tenant })}`);
      download(`actorlog-${kind}-${id}.dot`, bytes, 'text/vnd.graphviz');
    } catch (err) {
      setExportError(err as Error);
    }
  };

  return (
    <>
      <h1>
        {kind === 'session' ? 'Session' : 'Trace'} <code>{id}</code>
      </h1>
      <p class="lede">
        <Link href={hrefs.search({ [kind]: id })}>Its events in the search</Link>
      </p>
      <Status loaded={graph}>
        {(g) => (
          <Section
            title="Delegation graph"
            actions={
              <div class="actions">
                <button type="button" onClick={exportSvg}>
                  Export SVG
                </button>
                <button type="button" onClick={() => void exportPng()}>
                  Export PNG
                </button>
                <button type="button" onClick={() => void exportDot()}>
                  Export DOT
                </button>
              </div>
            }
          >
            {exportError && <ErrorBox error={exportError} />}
            <p class="muted">
              {g.events} events{g.truncated ? ' (only the first ones drawn)' : ''}. Red dashed edges carried denials; red-framed nodes took part in flagged events. Select a node to open it.
            </p>
            <div class="graph" tabIndex={0} role="region" aria-label="Graph (scrolls)">
              <DrawnGraph graph={g} flags={flags} kind={kind} id={id} svgRef={svgRef} />
            </div>
            <details>
              <summary>Edges as a table</summary>
              <Table
                caption="Edges"
                rows={g.edges as unknown as Record<string, unknown>[]}
                columns={[
                  { key: 'from', label: 'From' },
                  { key: 'kind', label: 'Relation' },
                  { key: 'to', label: 'To' },
                  { key: 'events', label: 'Events', numeric: true },
                  { key: 'denied', label: 'Denied', numeric: true },
                  { key: 'first', label: 'First', render: (r) => <Time value={r.first} /> },
                  { key: 'last', label: 'Last', render: (r) => <Time value={r.last} /> },
                ]}
              />
            </details>
          </Section>
        )}
      </Status>
      <Section title="Flagged events">
        <Status loaded={events}>{() => <EventTable rows={flagged} />}</Status>
      </Section>
      <Section title="Denied events">
        <Status loaded={events}>{() => <EventTable rows={denied} />}</Status>
      </Section>
      {flags.size > 0 && (
        <Section title="Flags in this graph">
          <FlagList flags={[...new Set([...flags.values()].flatMap((s) => [...s]))]} withDefinitions />
        </Section>
      )}
    </>
  );
}
