// Pipeline diagrams: a module's graph JSON ({roots, nodes}) drawn as SVG.
// Each pipeline is a column: its header (a root — listen, read, task — or a
// named sub-pipeline) and its filters in order. A joint filter links to the
// sub-pipelines it runs, drawn in the next column to the right; a use filter
// lists the chain of modules it passes through, each a link to that file.
import { javascriptLanguage, typescriptLanguage } from '@codemirror/lang-javascript';
import type { Graph, GraphNode } from './api';
import { s } from './dom';

const COL_MIN = 150; // box width, at least
const COL_MAX = 230; // and at most
const GAPX = 36; // between columns
const HEAD = 28; // pipeline header height
const ROW = 24; // filter height
const CHAIN = 17; // one module of a use chain
const VGAP = 7; // between filters
const PGAP = 14; // between sibling sub-pipelines
const RGAP = 26; // between root trees
const PAD = 10;
const CHAR = 6.9; // average advance of the 12px monospace font

/** UseChains maps a use filter's diagram name to the modules it chains. */
export type UseChains = Map<string, string[]>;

function normalize(p: string) {
  const parts: string[] = [];
  for (const seg of p.replace(/^\.\//, '').split('/')) {
    if (!seg || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

function unquote(lit: string) {
  const q = lit[0];
  if (q === '"') {
    try {
      return JSON.parse(lit);
    } catch {
      /* fall through */
    }
  }
  return lit.slice(1, -1).replace(/\\(.)/g, '$1');
}

/**
 * useChains finds the use(...) calls of a script, keyed as the diagram names
 * them: "use /plugins/router.js (plus 1 more) [request]".
 */
export function useChains(source: string, path: string, into: UseChains = new Map()): UseChains {
  const parser = path.endsWith('.ts') ? typescriptLanguage.parser : javascriptLanguage.parser;
  const tree = parser.parse(source);
  const text = (n: { from: number; to: number }) => source.slice(n.from, n.to);
  tree.iterate({
    enter(n) {
      if (n.name !== 'CallExpression') return;
      const callee = n.node.firstChild;
      if (!callee || callee.name !== 'MemberExpression') return;
      const prop = callee.lastChild;
      if (!prop || prop.name !== 'PropertyName' || text(prop) !== 'use') return;
      const args = n.node.getChild('ArgList');
      if (!args) return;
      const list: { name: string; from: number; to: number; node: typeof args }[] = [];
      for (let c = args.firstChild; c; c = c.nextSibling) {
        if (c.name !== '(' && c.name !== ')' && c.name !== ',' && !c.type.isSkipped) {
          list.push({ name: c.name, from: c.from, to: c.to, node: c });
        }
      }
      if (list.length < 2 || list[1].name !== 'String') return;
      let modules: string[] = [];
      if (list[0].name === 'String') modules = [unquote(text(list[0]))];
      else if (list[0].name === 'ArrayExpression') {
        for (let c = list[0].node.firstChild; c; c = c.nextSibling) {
          if (c.name === 'String') modules.push(unquote(text(c)));
        }
      } else return;
      modules = modules.map(normalize);
      if (!modules.length) return;
      const name = unquote(text(list[1]));
      const more = modules.length > 1 ? ` (plus ${modules.length - 1} more)` : '';
      into.set(`use ${modules[0]}${more} [${name}]`, modules);
    },
  });
  return into;
}

function fit(text: string, width: number) {
  const max = Math.floor((width - 18) / CHAR);
  return text.length > max ? text.slice(0, Math.max(max - 1, 1)) + '…' : text;
}

/** fitPath shortens a path from the left, keeping the file name: …/plugins/x.js. */
function fitPath(path: string, width: number) {
  const max = Math.floor((width - 18) / CHAR);
  if (path.length <= max) return path;
  const parts = path.split('/');
  for (let i = 2; i < parts.length; i++) {
    const tail = '…/' + parts.slice(i).join('/');
    if (tail.length <= max) return tail;
  }
  return fit(parts[parts.length - 1], width);
}

/** wrap breaks a title into at most two lines that fit the width. */
function wrap(text: string, width: number): string[] {
  const max = Math.floor((width - 18) / CHAR);
  if (text.length <= max) return [text];
  const cut = text.lastIndexOf(' ', max);
  if (cut <= 0) return [text];
  return [text.slice(0, cut), text.slice(cut + 1)];
}

function label(x: number, y: number, text: string, width: number, cls: string) {
  const shown = fit(text, width);
  return s('text', { x, y, class: cls }, shown, shown !== text && s('title', null, text));
}

export interface DiagramOptions {
  chains?: UseChains;
  onOpen?: (module: string) => void;
  title?: string;
  /** width to fit the columns in, when they can be narrow enough */
  width?: number;
}

/** columns counts the pipeline columns of the widest root tree. */
function columns(g: Graph): number {
  let max = 1;
  const walk = (ni: number, depth: number) => {
    max = Math.max(max, depth);
    for (const f of g.nodes[ni].c ?? []) for (const ci of g.nodes[f].c ?? []) walk(ci, depth + 1);
  };
  for (const r of g.roots) walk(r, 1);
  return max;
}

/** renderDiagram draws a graph; it is an empty-state text when the graph has no pipelines. */
export function renderDiagram(g: Graph, opts: DiagramOptions = {}): SVGSVGElement {
  const n = columns(g);
  const fitted = opts.width ? Math.floor((opts.width - PAD * 2 - GAPX * (n - 1)) / n) : COL_MAX;
  const COL = Math.min(Math.max(fitted, COL_MIN), COL_MAX);
  const body = s('g', { transform: `translate(${PAD},${PAD})` });
  const edges = s('g', { class: 'dg-edges' });
  const boxes = s('g');
  body.append(edges, boxes);
  let maxX = 0;

  const chainOf = (n: GraphNode) => {
    if (!n.name.startsWith('use ')) return null;
    const known = opts.chains?.get(n.name);
    if (known) return known;
    const m = /^use (\S+)(?: \(plus (\d+) more\))? \[/.exec(n.name);
    if (!m) return null;
    return [m[1], ...(m[2] ? [`… ${m[2]} more`] : [])];
  };

  const pipelineClass = (n: GraphNode) => {
    if (n.t === 'root') return 'dg-root';
    if (n.name === '[empty]') return 'dg-empty';
    if (/^(pipeline not found|recursive pipeline): /.test(n.name)) return 'dg-error';
    return 'dg-pipe';
  };

  // place lays out pipeline node n at (x, y) and returns the bottom of its tree.
  const place = (ni: number, x: number, y: number): number => {
    const n = g.nodes[ni];
    const cls = pipelineClass(n);
    maxX = Math.max(maxX, x + COL);
    const title = cls === 'dg-empty' ? 'pass-through [empty]' : n.name;
    const lines = wrap(title, COL);
    const headH = HEAD + (lines.length - 1) * 15;
    const head = s(
      'g',
      { class: `dg-head ${cls}` },
      s('rect', { x, y, width: COL, height: headH, rx: cls === 'dg-root' ? 6 : 13 }),
      ...lines.map((l, i) => label(x + 10, y + HEAD / 2 + 4 + i * 15, l, COL, 'dg-title')),
      lines.length > 1 && s('title', null, title),
    );
    boxes.append(head);
    let cy = y + headH + VGAP;
    let childBottom = y - PGAP;
    const kids = n.c ?? [];
    for (let i = 0; i < kids.length; i++) {
      const f = g.nodes[kids[i]];
      const chain = chainOf(f);
      const height = chain ? ROW + chain.length * CHAIN + 4 : ROW;
      // The flow between consecutive boxes.
      edges.append(s('line', { class: 'dg-flow', x1: x + 14, y1: cy - VGAP, x2: x + 14, y2: cy }));
      const joint = f.t === 'link' || f.t === 'fork';
      const g1 = s(
        'g',
        { class: `dg-filter${joint ? ' dg-joint' : ''}${f.t === 'fork' ? ' dg-fork' : ''}${chain ? ' dg-use' : ''}` },
        s('rect', { x, y: cy, width: COL, height, rx: 4 }),
      );
      if (chain) {
        const m = /\[([^\]]*)\]$/.exec(f.name);
        g1.append(
          s('title', null, f.name),
          s('text', { x: x + 10, y: cy + 16, class: 'dg-name' }, 'use ', s('tspan', { class: 'dg-dim' }, `[${m ? m[1] : ''}]`)),
        );
        chain.forEach((mod, j) => {
          const ty = cy + ROW + j * CHAIN + 9;
          const t = s(
            'text',
            { x: x + 18, y: ty, class: 'dg-module' },
            s('tspan', { class: 'dg-dim' }, `${j + 1}. `),
            fitPath(mod, COL - 24),
          );
          if (opts.onOpen && mod.startsWith('/')) {
            const open = () => opts.onOpen!(mod);
            const a = s(
              'g',
              {
                class: 'dg-open',
                tabindex: 0,
                role: 'link',
                'aria-label': `Open ${mod}`,
                on: {
                  click: open,
                  keydown: (e: KeyboardEvent) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), open()),
                },
              },
              s('title', null, `Open ${mod}`),
              s('rect', { x: x + 6, y: ty - 12, width: COL - 12, height: CHAIN - 1, rx: 3, class: 'dg-hit' }),
              t,
            );
            g1.append(a);
          } else g1.append(t);
        });
      } else {
        g1.append(label(x + 10, cy + 16, f.name, joint ? COL - 14 : COL, 'dg-name'));
      }
      if (joint) g1.append(s('text', { x: x + COL - 16, y: cy + 16, class: 'dg-arrow' }, '⤷'));
      boxes.append(g1);
      if (joint) {
        for (const ci of f.c ?? []) {
          const start = Math.max(cy, childBottom + PGAP);
          const cx = x + COL + GAPX;
          const x1 = x + COL;
          const y1 = cy + ROW / 2;
          const y2 = start + HEAD / 2;
          edges.append(
            s('path', {
              class: f.t === 'fork' ? 'dg-edge dg-edge-fork' : 'dg-edge',
              d: `M${x1},${y1} C${x1 + GAPX / 2},${y1} ${cx - GAPX / 2},${y2} ${cx - 4},${y2}`,
              'marker-end': 'url(#dg-arrowhead)',
            }),
          );
          childBottom = place(ci, cx, start);
        }
      }
      cy += height + VGAP;
    }
    return Math.max(cy - VGAP, childBottom);
  };

  let y = 0;
  for (const r of g.roots) {
    y = place(r, 0, y) + RGAP;
  }
  const width = maxX + PAD * 2;
  const height = Math.max(y - RGAP, 0) + PAD * 2;
  const names = g.roots.map((r) => g.nodes[r].name).join(', ');
  const svg = s(
    'svg',
    {
      class: 'diagram',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'group',
      'aria-label': opts.title ? `${opts.title}: ${names}` : names,
    },
    s(
      'defs',
      null,
      s(
        'marker',
        { id: 'dg-arrowhead', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto' },
        s('path', { d: 'M0,0 L8,4 L0,8 z', class: 'dg-arrowhead' }),
      ),
    ),
    body,
  );
  return svg;
}
