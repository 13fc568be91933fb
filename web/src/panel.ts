// The right-hand panel: the pipeline diagrams (of the open module, live as
// it is edited, and of the running program), the status of the running
// program, and the guide (the codebase's README.md, a tutorial's text).
import * as actions from './actions';
import * as api from './api';
import type { Graph } from './api';
import { coalesce, h, replace } from './dom';
import * as editor from './editor';
import { renderDiagram, useChains, type UseChains } from './diagram';
import { icon } from './icons';
import { arrowTabs } from './sidebar';
import { on, store, workingFiles, type PanelTab } from './state';
import { renderStatus } from './status';
import * as tutorials from './tutorials';

let body: HTMLElement;
const tabs: Partial<Record<PanelTab, HTMLButtonElement>> = {};
let diagramMode: 'file' | 'running' = (localStorage.getItem('sluice.diagram') as 'file' | 'running') ?? 'file';

/** The last compile check of each file: its graph, or its error with the last good graph. */
const fileGraphs = new Map<string, editor.FileGraph & { last: Graph | null }>();

editor.graphs.on((fg) => {
  const k = `${fg.cb}\n${fg.path}`;
  const prev = fileGraphs.get(k);
  fileGraphs.set(k, { ...fg, last: fg.graph ?? prev?.graph ?? prev?.last ?? null });
  if (store.panelTab === 'diagram' && fg.cb === store.cb && fg.path === store.file) render();
});

// The running program's module sources, for its use chains.
const runningSources = new Map<string, string>();
let runningKey = '';

async function loadRunningSources() {
  const p = store.program;
  if (!p?.running) return;
  const key = `${p.codebase}#${p.generation}`;
  if (key === runningKey) return;
  runningKey = key;
  runningSources.clear();
  await Promise.all(
    Object.keys(p.status.modules).map(async (m) => {
      try {
        runningSources.set(m, (await api.readFile(p.codebase, m)).text);
      } catch {
        // erased since
      }
    }),
  );
  if (runningKey === key && store.panelTab === 'diagram' && diagramMode === 'running') render();
}

function openModule(cb: string, module: string) {
  if (store.cb === cb) actions.openFile(module);
  else actions.openCodebase(cb, module);
}

/** diagramWidth is the room for a diagram in the panel (less its padding and border). */
function diagramWidth() {
  return Math.max(body.clientWidth - 26, 200);
}

function fileDiagram(): HTMLElement {
  const cb = store.cb;
  const file = store.file;
  if (!cb || !file) return h('p', { class: 'empty' }, 'Open a module to see its pipelines.');
  if (!editor.isScript(file)) return h('p', { class: 'empty' }, `Diagrams are drawn for .js and .ts modules; ${file} is not one.`);
  const fg = fileGraphs.get(`${cb}\n${file}`);
  if (!fg) return h('p', { class: 'empty' }, 'Checking the script…');
  const chains: UseChains = useChains(fg.source, file);
  const out = h('div', { class: 'diagram-view' });
  if (fg.error) {
    const e = fg.error;
    out.append(
      h(
        'div',
        { class: 'banner error', role: 'status' },
        h(
          'p',
          null,
          e.line
            ? h(
                'button',
                {
                  class: 'linklike',
                  on: { click: () => actions.openAt(cb, e.file ?? file, e.line!, e.column) },
                },
                `${e.file ?? file}:${e.line}:${e.column ?? 1}`,
              )
            : null,
          e.line ? ' ' : '',
          e.message.replace(/^\S+:\d+:\d+: /, ''),
        ),
      ),
    );
  }
  const g = fg.graph ?? fg.last;
  if (g) {
    if (!g.roots.length) out.append(h('p', { class: 'empty' }, 'No pipelines: this module declares none.'));
    else {
      const d = renderDiagram(g, {
        chains,
        onOpen: (m) => openModule(cb, m),
        title: `Pipelines of ${file}`,
        width: diagramWidth(),
      });
      if (!fg.graph) d.classList.add('stale');
      out.append(h('div', { class: 'diagram-scroll', tabindex: 0, 'aria-label': `Diagram of ${file}` }, d));
    }
  }
  return out;
}

function runningDiagrams(): HTMLElement {
  const p = store.program;
  if (!p?.running) return h('p', { class: 'empty' }, 'Nothing runs. Run a codebase to see its modules here.');
  void loadRunningSources();
  const mods = Object.keys(p.status.modules).sort((a, b) => (a === p.main ? -1 : b === p.main ? 1 : a.localeCompare(b)));
  const out = h('div', { class: 'diagram-view' });
  out.append(h('p', { class: 'muted small' }, `${p.codebase} · version ${p.version} · ${mods.length} module${mods.length === 1 ? '' : 's'}`));
  for (const m of mods) {
    const g = p.status.modules[m].graph;
    const src = runningSources.get(m);
    const chains = src ? useChains(src, m) : undefined;
    out.append(
      h(
        'section',
        { class: 'module' },
        h(
          'h3',
          null,
          h('button', { class: 'linklike', on: { click: () => openModule(p.codebase, m) } }, m),
          m === p.main && h('span', { class: 'badge main' }, icon('flag'), 'main'),
        ),
        g.roots.length
          ? h(
              'div',
              { class: 'diagram-scroll', tabindex: 0, 'aria-label': `Diagram of ${m}` },
              renderDiagram(g, {
                chains,
                onOpen: (x) => openModule(p.codebase, x),
                title: `Pipelines of ${m}`,
                width: diagramWidth(),
              }),
            )
          : h('p', { class: 'empty' }, 'No pipelines of its own (used by others).'),
      ),
    );
  }
  return out;
}

function diagramTab(): HTMLElement[] {
  // With no codebase open there is no module: show what runs.
  if (!store.cb) return [h('h3', { class: 'panel-subtitle' }, 'Running program'), runningDiagrams()];
  const seg = (mode: 'file' | 'running', label: string) =>
    h(
      'button',
      {
        class: `seg${diagramMode === mode ? ' on' : ''}`,
        'aria-pressed': String(diagramMode === mode),
        on: {
          click: () => {
            diagramMode = mode;
            localStorage.setItem('sluice.diagram', mode);
            render();
          },
        },
      },
      label,
    );
  return [
    h(
      'div',
      { class: 'segmented', role: 'group', 'aria-label': 'Which diagram' },
      seg('file', store.file ? `This module` : 'This module'),
      seg('running', 'Running program'),
    ),
    diagramMode === 'file' ? fileDiagram() : runningDiagrams(),
  ];
}

let guideToken = 0;

async function guideTab(): Promise<HTMLElement> {
  const cb = store.cb;
  const info = store.info;
  if (!cb || !info) {
    return h(
      'div',
      { class: 'guide' },
      h('p', { class: 'empty' }, 'Open a codebase with a README.md, or a tutorial step, to read it here.'),
      tutorials.stepList(),
    );
  }
  const files = workingFiles(info).filter((f) => !info.erasedFiles.includes(f));
  let readme: string | null = null;
  if (files.includes('/README.md')) {
    const b = editor.buffer(cb, '/README.md');
    readme = b ? editor.text(b) : (await api.readFile(cb, '/README.md').catch(() => ({ text: null }))).text;
  }
  return tutorials.guide(cb, readme);
}

async function render() {
  const tab = store.panelTab;
  for (const [k, b] of Object.entries(tabs)) {
    b!.setAttribute('aria-selected', String(k === tab));
    b!.tabIndex = k === tab ? 0 : -1;
  }
  body.dataset.tab = tab;
  if (tab === 'diagram') {
    // Keep a diagram scrolled sideways where it was (reading scrollLeft
    // lays the page out, so only when it is scrolled).
    const old = body.querySelector('.diagram-scroll');
    const keep = old && old.scrollWidth > old.clientWidth ? old.scrollLeft : 0;
    replace(body, ...diagramTab());
    const sc = body.querySelector('.diagram-scroll');
    if (sc && keep) sc.scrollLeft = keep;
  } else if (tab === 'status') {
    replace(body, renderStatus());
  } else {
    const token = ++guideToken;
    const el = await guideTab();
    if (token !== guideToken || store.panelTab !== 'guide') return;
    const keepTop = body.dataset.guideFor === store.cb ? body.scrollTop : 0;
    replace(body, el);
    body.dataset.guideFor = store.cb ?? '';
    body.scrollTop = keepTop;
  }
}

export function mountPanel(el: HTMLElement) {
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Panels' });
  const names: [PanelTab, string, string][] = [
    ['diagram', 'Diagram', 'diagram'],
    ['status', 'Status', 'chart'],
    ['guide', 'Guide', 'book'],
  ];
  for (const [k, label, ic] of names) {
    const b = h(
      'button',
      {
        class: 'tab',
        role: 'tab',
        id: `panel-tab-${k}`,
        'aria-controls': 'panel-body',
        on: {
          click: () => {
            store.panelTab = k;
            void render();
          },
          keydown: (e: KeyboardEvent) => arrowTabs(e, Object.values(tabs) as HTMLButtonElement[]),
        },
      },
      icon(ic),
      h('span', null, label),
    );
    tabs[k] = b;
    tablist.append(b);
  }
  body = h('div', { class: 'panel-body', id: 'panel-body', role: 'tabpanel' });
  el.append(tablist, body);
  const later = coalesce(() => void render());
  on(['route', 'info', 'file'], later);
  on(['program'], () => store.panelTab !== 'guide' && later());
  on(['counters', 'connection'], () => store.panelTab === 'status' && later());
  editor.saved.on((b) => {
    if (store.panelTab === 'guide' && b.path === '/README.md') void render();
  });
  let lastWidth = 0;
  new ResizeObserver(() => {
    const w = body.clientWidth;
    if (Math.abs(w - lastWidth) > 24 && store.panelTab === 'diagram') {
      lastWidth = w;
      void render();
    }
  }).observe(body);
  void render();
}
