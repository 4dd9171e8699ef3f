// The delegation graph laid out by ELK's layered algorithm (elkjs), left to
// right: human, agents by delegation depth, servers, tools. ELK orders each
// layer to cut edge crossings and routes edges around nodes and their labels,
// which keeps a session with hundreds of sub-agents, servers and tools
// readable. ELK itself (about 440 KB compressed) runs in a Web Worker
// started when a graph is drawn: it stays out of the console's first load,
// and a large graph's layout (seconds) never freezes the page.
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';

export interface GraphNode { id: string; kind: 'human' | 'agent' | 'server' | 'tool'; label: string; events: number; first: string; last: string }
export interface GraphEdge { from: string; to: string; kind: string; events: number; denied: number; first: string; last: string }
export interface Point { x: number; y: number }
export interface Placed extends GraphNode { x: number; y: number }
export interface Routed extends GraphEdge { points: Point[]; text: string; label: Point }
export interface Layout { nodes: Placed[]; edges: Routed[]; width: number; height: number }

export const NODE_W = 180;
export const NODE_H = 46;
const LABEL_H = 14;
// 11 px system-ui digits and letters average under 6.5 px.
const labelWidth = (text: string) => Math.ceil(text.length * 6.5) + 6;

export const edgeText = (e: GraphEdge) => (e.denied > 0 ? `${e.events} (${e.denied} denied)` : String(e.events));

const KIND_ORDER: Record<GraphNode['kind'], number> = { human: 0, agent: 1, server: 2, tool: 3 };

const OPTIONS = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
  'elk.spacing.nodeNode': '18',
  'elk.spacing.edgeNode': '12',
  'elk.spacing.edgeEdge': '8',
  'elk.spacing.edgeLabel': '2',
  'elk.layered.spacing.nodeNodeBetweenLayers': '60',
  'elk.layered.spacing.edgeNodeBetweenLayers': '16',
  'elk.edgeLabels.placement': 'CENTER',
  // Same input, same drawing. (Keeping the model order as well costs three
  // times the layout time on a graph of 300 nodes.)
  'elk.randomSeed': '1',
};

export async function layout(nodes: GraphNode[], edges: GraphEdge[]): Promise<Layout> {
  const { default: ELK } = await import('elkjs/lib/elk-api.js');
  const known = new Set(nodes.map((n) => n.id));
  const sortedNodes = [...nodes].sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.label.localeCompare(b.label));
  const kept = edges.filter((e) => known.has(e.from) && known.has(e.to));
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: OPTIONS,
    children: sortedNodes.map((n) => ({ id: n.id, width: NODE_W, height: NODE_H })),
    edges: kept.map((e, i): ElkExtendedEdge => {
      const text = edgeText(e);
      return { id: `e${i}`, sources: [e.from], targets: [e.to], labels: [{ id: `l${i}`, text, width: labelWidth(text), height: LABEL_H }] };
    }),
  };
  const elk = new ELK({ workerUrl: elkWorkerUrl });
  let out: ElkNode;
  try {
    out = await elk.layout(graph);
  } finally {
    elk.terminateWorker();
  }
  // Every node and edge sits in the root, so ELK's coordinates are absolute.
  const at = new Map((out.children ?? []).map((c) => [c.id, c]));
  const placed = sortedNodes.map((n): Placed => ({ ...n, x: at.get(n.id)?.x ?? 0, y: at.get(n.id)?.y ?? 0 }));
  // Document order follows the drawing, left to right then top to bottom,
  // so the keyboard walks the graph the way the eye reads it.
  placed.sort((a, b) => a.x - b.x || a.y - b.y);
  const routed = (out.edges ?? []).map((r): Routed => {
    const e = kept[Number(r.id.slice(1))]!;
    const section = r.sections?.[0];
    const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
    const l = r.labels?.[0];
    const label = l ? { x: (l.x ?? 0) + (l.width ?? 0) / 2, y: (l.y ?? 0) + LABEL_H - 3 } : (points[0] ?? { x: 0, y: 0 });
    return { ...e, points, text: edgeText(e), label };
  });
  return { nodes: placed, edges: routed, width: Math.ceil(out.width ?? 0), height: Math.ceil(out.height ?? 0) };
}
