// A layered left-to-right layout of a delegation graph: the human first, then
// the agents at their depth in the delegation chain, then servers, then
// tools. Small graphs (a session) need nothing more, and it keeps the bundle
// free of a layout library.
export interface GraphNode { id: string; kind: 'human' | 'agent' | 'server' | 'tool'; label: string; events: number; first: string; last: string }
export interface GraphEdge { from: string; to: string; kind: string; events: number; denied: number; first: string; last: string }
export interface Placed extends GraphNode { x: number; y: number; layer: number }

export const NODE_W = 180;
export const NODE_H = 46;
const GAP_X = 90;
const GAP_Y = 26;

export function layout(nodes: GraphNode[], edges: GraphEdge[]): { nodes: Placed[]; width: number; height: number } {
  const depth = new Map<string, number>();
  for (const n of nodes) if (n.kind === 'human' || n.kind === 'agent') depth.set(n.id, n.kind === 'human' ? 0 : 1);
  // Longest path over the human/agent part; bounded, so a cycle in bad data cannot loop.
  for (let round = 0; round < nodes.length; round++) {
    let changed = false;
    for (const e of edges) {
      const from = depth.get(e.from);
      const to = depth.get(e.to);
      if (from === undefined || to === undefined) continue;
      if (to < from + 1 && from + 1 < nodes.length + 1) {
        depth.set(e.to, from + 1);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const agentMax = Math.max(0, ...depth.values());
  const layerOf = (n: GraphNode) => (n.kind === 'server' ? agentMax + 1 : n.kind === 'tool' ? agentMax + 2 : depth.get(n.id)!);
  const layers = new Map<number, GraphNode[]>();
  for (const n of nodes) {
    const l = layerOf(n);
    layers.set(l, [...(layers.get(l) ?? []), n]);
  }
  const tallest = Math.max(1, ...[...layers.values()].map((l) => l.length));
  const height = tallest * (NODE_H + GAP_Y) + GAP_Y;
  const placed: Placed[] = [];
  for (const [layer, members] of [...layers.entries()].sort((a, b) => a[0] - b[0])) {
    members.sort((a, b) => a.label.localeCompare(b.label));
    const top = (height - members.length * (NODE_H + GAP_Y) + GAP_Y) / 2;
    members.forEach((n, i) => placed.push({ ...n, layer, x: GAP_X / 2 + layer * (NODE_W + GAP_X), y: top + i * (NODE_H + GAP_Y) }));
  }
  const layerCount = Math.max(1, ...placed.map((p) => p.layer + 1));
  return { nodes: placed, width: layerCount * (NODE_W + GAP_X), height };
}
