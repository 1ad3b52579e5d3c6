import { AppError } from '../../shared/errors.ts';
import { basicEventProbability, type FaultTreeModel, type Gate } from './model.ts';
import { validateFaultTreeModel, type ModelIndex } from './validate.ts';
import { resolveTop } from './compile.ts';

export interface SvgOptions {
  /** Gate drawn at the top; default as in analyzeFaultTree. */
  top?: string;
  /** Basic events to highlight (one minimal cut set). */
  highlightCutSet?: readonly string[];
  /** Gates deeper than this are drawn collapsed (a transfer triangle instead of their inputs). Default 8. */
  maxDepth?: number;
  /** Fewer depth levels are drawn until at most this many elements remain. Default 300. */
  maxNodes?: number;
}

const SLOT = 170;
const LAYER = 120;
const BOX_W = 156;
const BOX_H = 44;
const MARGIN = 20;

type Kind = 'gate' | 'basic' | 'house';

interface Placed {
  name: string;
  kind: Kind;
  layer: number;
  x: number;
  collapsed: boolean;
  children: string[];
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function kindOf(index: ModelIndex, name: string): Kind {
  return index.gates.has(name) ? 'gate' : index.basicEvents.has(name) ? 'basic' : 'house';
}

/** Names of the elements drawn when gates at `maxDepth` (shortest distance from the top) are collapsed. */
function visibleFrom(index: ModelIndex, top: string, maxDepth: number): Map<string, number> {
  const depth = new Map<string, number>([[top, 0]]);
  const queue = [top];
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i]!;
    const d = depth.get(name)!;
    const gate = index.gates.get(name)?.gate;
    if (!gate || d >= maxDepth) continue;
    for (const input of gate.inputs) {
      if (!depth.has(input)) {
        depth.set(input, d + 1);
        queue.push(input);
      }
    }
  }
  return depth;
}

/**
 * SVG drawing of a fault tree: each gate as a labelled box over its standard symbol (AND, OR; k/n, NOT,
 * XOR, NAND, NOR as labelled symbols), basic events as circles, house events as house shapes. A shared
 * sub-tree is drawn once with an edge from each parent. Every basic event's group carries
 * `data-event="<name>"` (and gates `data-gate`) so a UI can highlight any cut set; `highlightCutSet` does it here.
 */
export function renderFaultTreeSvg(model: FaultTreeModel, options: SvgOptions = {}): string {
  const index = validateFaultTreeModel(model);
  const top = resolveTop(model, index, options.top);
  const highlight = new Set(options.highlightCutSet ?? []);
  for (const name of highlight) {
    if (!index.basicEvents.has(name)) {
      throw new AppError('validation_failed', `highlightCutSet: "${name}" is not a basic event of this model`, { field: 'highlightCutSet', element: name });
    }
  }
  const maxNodes = options.maxNodes ?? 300;
  let maxDepth = options.maxDepth ?? 8;
  let depth = visibleFrom(index, top, maxDepth);
  while (depth.size > maxNodes && maxDepth > 1) depth = visibleFrom(index, top, --maxDepth);

  // Spanning-tree layout: leaves take consecutive slots in depth-first order, parents sit over their
  // children; layers are longest paths, so a shared sub-tree sits below all of its parents.
  const placed = new Map<string, Placed>();
  let nextSlot = 0;
  const place = (name: string): void => {
    const gate: Gate | undefined = index.gates.get(name)?.gate;
    const collapsed = gate !== undefined && depth.get(name)! >= maxDepth;
    const children = gate && !collapsed ? gate.inputs.filter((input, i) => gate.inputs.indexOf(input) === i) : [];
    const node: Placed = { name, kind: kindOf(index, name), layer: 0, x: 0, collapsed, children };
    placed.set(name, node);
    const own = children.filter((child) => !placed.has(child));
    for (const child of own) if (!placed.has(child)) place(child);
    const xs = own.map((child) => placed.get(child)!.x);
    node.x = xs.length > 0 ? (Math.min(...xs) + Math.max(...xs)) / 2 : nextSlot++ * SLOT;
  };
  place(top);
  const order = [...placed.values()];
  // Longest-path layers, relaxed parents-first, so a shared sub-tree sits below all of its parents.
  for (const node of topologicalOrder(order, placed)) {
    for (const child of node.children) {
      const c = placed.get(child)!;
      c.layer = Math.max(c.layer, node.layer + 1);
    }
  }

  const width = Math.max(1, nextSlot) * SLOT + 2 * MARGIN;
  const height = (Math.max(...order.map((n) => n.layer)) + 1) * LAYER + 2 * MARGIN;
  const px = (node: Placed): number => node.x + MARGIN + SLOT / 2;
  const py = (node: Placed): number => node.layer * LAYER + MARGIN;

  const edges: string[] = [];
  const shapes: string[] = [];
  for (const node of order) {
    const x = px(node);
    const y = py(node);
    for (const child of node.children) {
      const c = placed.get(child)!;
      edges.push(`<path class="edge" d="M${x},${y + BOX_H + 30} V${y + BOX_H + 42} H${px(c)} V${py(c)}"/>`);
    }
    shapes.push(drawNode(node, x, y, index, highlight));
  }

  const title = model.label ?? model.name;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(`Fault tree: ${title}`)}" data-top="${escapeXml(top)}">`,
    `<title>${escapeXml(`Fault tree: ${title} (top: ${top})`)}</title>`,
    '<style>',
    '.edge{fill:none;stroke:#555;stroke-width:1.2}',
    '.box{fill:#fff;stroke:#333;stroke-width:1.2}',
    '.symbol{fill:#eef3fb;stroke:#333;stroke-width:1.2}',
    '.event{fill:#fff7e6;stroke:#333;stroke-width:1.2}',
    '.house{fill:#eef8ee;stroke:#333;stroke-width:1.2}',
    'text{font-family:system-ui,sans-serif;font-size:11px;fill:#222;text-anchor:middle}',
    'text.name{font-size:9px;fill:#666}',
    'text.op{font-size:9px;font-weight:bold}',
    '.highlighted .box{stroke:#c62828;stroke-width:2.5}',
    '.highlighted .event{fill:#ffcdd2;stroke:#c62828;stroke-width:2.5}',
    '</style>',
    ...edges,
    ...shapes,
    '</svg>',
  ].join('\n');
}

function topologicalOrder(nodes: Placed[], placed: Map<string, Placed>): Placed[] {
  const indegree = new Map<string, number>(nodes.map((n) => [n.name, 0]));
  for (const n of nodes) for (const c of n.children) indegree.set(c, indegree.get(c)! + 1);
  const ready = nodes.filter((n) => indegree.get(n.name) === 0);
  const out: Placed[] = [];
  while (ready.length > 0) {
    const n = ready.shift()!;
    out.push(n);
    for (const c of n.children) {
      const left = indegree.get(c)! - 1;
      indegree.set(c, left);
      if (left === 0) ready.push(placed.get(c)!);
    }
  }
  return out;
}

function wrapLabel(text: string, width = 24): string[] {
  const words = text.split(/\s+/);
  const lines: string[] = [''];
  for (const word of words) {
    const current = lines[lines.length - 1]!;
    if (current.length > 0 && current.length + word.length + 1 > width) lines.push(word);
    else lines[lines.length - 1] = current ? `${current} ${word}` : word;
  }
  if (lines.length > 2) return [lines[0]!, `${lines[1]!.slice(0, width - 1)}…`];
  return lines;
}

function drawNode(node: Placed, x: number, y: number, index: ModelIndex, highlight: Set<string>): string {
  const label = labelOf(node, index);
  const lines = wrapLabel(label);
  const text = lines.map((line, i) => `<text x="${x}" y="${y + 14 + i * 13}">${escapeXml(line)}</text>`).join('');
  const nameLine = label !== node.name ? `<text class="name" x="${x}" y="${y + BOX_H - 4}">${escapeXml(node.name)}</text>` : '';
  const box = `<rect class="box" x="${x - BOX_W / 2}" y="${y}" width="${BOX_W}" height="${BOX_H}" rx="3"/>${text}${nameLine}`;
  const sy = y + BOX_H;
  if (node.kind === 'basic') {
    const event = index.basicEvents.get(node.name)!.event;
    const cls = highlight.has(node.name) ? ' highlighted' : '';
    const p = basicEventProbability(event);
    return (
      `<g class="basic-event${cls}" data-event="${escapeXml(node.name)}"><title>${escapeXml(`${node.name}: p = ${p.toPrecision(3)}`)}</title>${box}` +
      `<line class="edge" x1="${x}" y1="${sy}" x2="${x}" y2="${sy + 4}"/><circle class="event" cx="${x}" cy="${sy + 17}" r="13"/></g>`
    );
  }
  if (node.kind === 'house') {
    const state = index.houseEvents.get(node.name)!.event.state;
    return (
      `<g class="house-event" data-house-event="${escapeXml(node.name)}" data-state="${state}">${box}` +
      `<path class="house" d="M${x - 13},${sy + 30} V${sy + 14} L${x},${sy + 4} L${x + 13},${sy + 14} V${sy + 30} Z"/>` +
      `<text class="op" x="${x}" y="${sy + 26}">${state ? 'T' : 'F'}</text></g>`
    );
  }
  const gate = index.gates.get(node.name)!.gate;
  const transfer = node.collapsed ? `<path class="symbol" d="M${x},${sy + 32} L${x - 10},${sy + 46} H${x + 10} Z"><title>inputs not drawn</title></path>` : '';
  return `<g class="gate" data-gate="${escapeXml(node.name)}" data-type="${gate.type}"${node.collapsed ? ' data-collapsed="true"' : ''}>${box}${gateSymbol(gate, x, sy)}${transfer}</g>`;
}

function labelOf(node: Placed, index: ModelIndex): string {
  const element = index.gates.get(node.name)?.gate ?? index.basicEvents.get(node.name)?.event ?? index.houseEvents.get(node.name)?.event;
  return element?.label ?? node.name;
}

function gateSymbol(gate: Gate, x: number, y: number): string {
  const bottom = y + 30;
  if (gate.type === 'and') {
    return `<path class="symbol" d="M${x - 14},${bottom} V${y + 18} A14 14 0 0 1 ${x + 14},${y + 18} V${bottom} Z"/>`;
  }
  const orShape = `<path class="symbol" d="M${x - 15},${bottom} Q${x},${bottom - 8} ${x + 15},${bottom} Q${x + 13},${y + 12} ${x},${y + 2} Q${x - 13},${y + 12} ${x - 15},${bottom} Z"/>`;
  if (gate.type === 'or') return orShape;
  const text = gate.type === 'atleast' ? `${gate.k}/${gate.inputs.length}` : gate.type.toUpperCase();
  const shape =
    gate.type === 'nand'
      ? `<path class="symbol" d="M${x - 16},${bottom} V${y + 18} A16 14 0 0 1 ${x + 16},${y + 18} V${bottom} Z"/>`
      : gate.type === 'atleast' || gate.type === 'xor' || gate.type === 'nor'
        ? orShape
        : `<rect class="symbol" x="${x - 18}" y="${y + 4}" width="36" height="26" rx="4"/>`;
  return `${shape}<text class="op" x="${x}" y="${bottom - 6}">${escapeXml(text)}</text>`;
}
