// The sidebar: the codebases (a tree by path), the open codebase's files
// (a tree by folder, with the main-entry flag and draft markers), and the
// tutorials.
import * as actions from './actions';
import type { Info } from './api';
import { coalesce, h, replace, type Child } from './dom';
import { icon } from './icons';
import { dirtyFiles, hasDraft, isDirty, on, store, workingFiles, type SideTab } from './state';
import * as tutorials from './tutorials';

const collapsedCodebaseFolders = new Set<string>(JSON.parse(localStorage.getItem('sluice.collapsed') ?? '["/tutorials"]'));
const collapsedFileFolders = new Set<string>();

interface TreeNode {
  name: string;
  path: string;
  leaf: boolean; // a codebase or a file
  children: Map<string, TreeNode>;
}

function tree(paths: string[]): TreeNode {
  const root: TreeNode = { name: '', path: '', leaf: false, children: new Map() };
  for (const p of paths) {
    let n = root;
    const parts = p.split('/').filter(Boolean);
    parts.forEach((part, i) => {
      const path = '/' + parts.slice(0, i + 1).join('/');
      if (!n.children.has(part)) n.children.set(part, { name: part, path, leaf: false, children: new Map() });
      n = n.children.get(part)!;
    });
    n.leaf = true;
  }
  return root;
}

function sorted(n: TreeNode) {
  // folders first, then by name
  return [...n.children.values()].sort((a, b) => {
    const fa = a.children.size > 0 && !a.leaf;
    const fb = b.children.size > 0 && !b.leaf;
    return fa === fb ? a.name.localeCompare(b.name, undefined, { numeric: true }) : fa ? -1 : 1;
  });
}

function iconButton(name: string, label: string, onClick: () => void, opts: { disabled?: boolean; cls?: string } = {}) {
  return h(
    'button',
    {
      class: `icon-btn ${opts.cls ?? ''}`,
      'aria-label': label,
      title: label,
      disabled: opts.disabled,
      on: {
        click: (e: Event) => {
          e.stopPropagation();
          onClick();
        },
      },
    },
    icon(name),
  );
}

// ---------------------------------------------------------------------------
// Codebases

function codebaseRow(n: TreeNode, depth: number): Child {
  const i = store.infos.get(n.path);
  const current = store.cb === n.path;
  const running = store.program?.running && store.program.codebase === n.path;
  return h(
    'div',
    { class: `row codebase${current ? ' current' : ''}`, style: `--depth:${depth}` },
    h(
      'button',
      {
        class: 'row-main',
        'aria-current': current ? 'page' : undefined,
        title: n.path,
        on: { click: () => actions.openCodebase(n.path) },
      },
      icon('codebases', 'row-icon'),
      h('span', { class: 'row-name' }, n.name),
      running && h('span', { class: 'dot running', title: 'Running', 'aria-label': 'running' }),
      i && h('span', { class: 'badge', title: `Version ${i.version}` }, `v${i.version}`),
      dirtyFiles(n.path).length > 0 && h('span', { class: 'mark dirty', title: 'Unsaved changes' }, '●'),
      hasDraft(i) && h('span', { class: 'badge draft', title: 'Has a draft: saved changes not committed yet' }, 'draft'),
      i?.readOnly && h('span', { class: 'badge ro', title: 'Read-only' }, 'ro'),
    ),
    h(
      'span',
      { class: 'row-actions' },
      iconButton('derive', `Derive from ${n.path}`, () => actions.newCodebase(n.path)),
      !i?.readOnly && iconButton('trash', `Delete ${n.path}`, () => actions.deleteCodebase(n.path), { cls: 'danger' }),
    ),
  );
}

function folderRow(n: TreeNode, depth: number, collapsed: boolean, toggle: () => void): Child {
  return h(
    'div',
    { class: 'row folder', style: `--depth:${depth}` },
    h(
      'button',
      { class: 'row-main', 'aria-expanded': String(!collapsed), on: { click: toggle } },
      icon('chevron', `chev${collapsed ? '' : ' open'}`),
      icon('folder', 'row-icon'),
      h('span', { class: 'row-name' }, n.name),
    ),
  );
}

function codebaseTree(): HTMLElement {
  const out = h('div', { class: 'tree', role: 'list', 'aria-label': 'Codebases' });
  const walk = (n: TreeNode, depth: number) => {
    for (const c of sorted(n)) {
      if (c.leaf) out.append(h('div', { role: 'listitem' }, codebaseRow(c, depth)));
      if (c.children.size) {
        const collapsed = collapsedCodebaseFolders.has(c.path);
        if (!c.leaf) {
          out.append(
            h(
              'div',
              { role: 'listitem' },
              folderRow(c, depth, collapsed, () => {
                if (collapsed) collapsedCodebaseFolders.delete(c.path);
                else collapsedCodebaseFolders.add(c.path);
                localStorage.setItem('sluice.collapsed', JSON.stringify([...collapsedCodebaseFolders]));
                render();
              }),
            ),
          );
        }
        if (!collapsed || c.leaf) {
          actions.fetchInfosUnder(c.path);
          walk(c, depth + 1);
        }
      }
    }
  };
  walk(tree(store.codebases), 0);
  if (!store.codebases.length) out.append(h('p', { class: 'empty' }, 'No codebases yet.'));
  return out;
}

// ---------------------------------------------------------------------------
// Files

function fileRow(n: TreeNode, depth: number, info: Info): Child {
  const p = n.path;
  const cb = info.path;
  const erased = info.erasedFiles.includes(p);
  const edited = info.editFiles.includes(p) && !erased;
  const added = edited && !info.files.includes(p) && !info.baseFiles.includes(p);
  const base = info.baseFiles.includes(p) && !edited && !erased;
  const main = info.main === p;
  const current = store.file === p;
  const dirty = isDirty(cb, p);
  const ro = info.readOnly;
  const markers: Child[] = [];
  if (dirty) markers.push(h('span', { class: 'mark dirty', title: 'Unsaved changes' }, '●'));
  if (added) markers.push(h('span', { class: 'mark added', title: 'New in the draft (not committed yet)' }, 'A'));
  else if (edited) markers.push(h('span', { class: 'mark edited', title: 'Edited in the draft (not committed yet)' }, 'M'));
  if (erased) markers.push(h('span', { class: 'mark erased', title: 'Deleted in the draft (not committed yet)' }, 'D'));
  if (base) markers.push(h('span', { class: 'mark base', title: `From the base codebase ${info.base}` }, 'B'));
  const state = [dirty && 'unsaved', added && 'new', edited && !added && 'edited', erased && 'deleted', base && 'from base']
    .filter(Boolean)
    .join(', ');
  return h(
    'div',
    {
      class: `row file${current ? ' current' : ''}${erased ? ' erased' : ''}${base ? ' base' : ''}${
        edited ? ' edited' : ''
      }${main ? ' main' : ''}`,
      style: `--depth:${depth}`,
      'data-path': p,
    },
    h(
      'button',
      {
        class: `flag${main ? ' on' : ''}`,
        'aria-label': main ? `${p} is the main entry` : `Flag ${p} as the main entry`,
        'aria-pressed': String(main),
        title: main ? 'Main entry: this module runs first' : ro ? 'Read-only' : 'Flag as the main entry',
        disabled: ro || erased,
        on: { click: () => actions.setMain(p) },
      },
      icon('flag'),
    ),
    h(
      'button',
      {
        class: 'row-main',
        'aria-current': current ? 'true' : undefined,
        'aria-label': `${n.name}${main ? ', main entry' : ''}${state ? `, ${state}` : ''}`,
        title: p,
        disabled: erased,
        on: { click: () => actions.openFile(p) },
      },
      h('span', { class: 'row-name' }, n.name),
      ...markers,
    ),
    !ro &&
    h(
      'span',
      { class: 'row-actions' },
      erased || edited
        ? iconButton('restore', erased ? `Restore ${p}` : `Revert ${p} to its committed text`, () => actions.restoreFile(p), {
            disabled: ro || added,
          })
        : null,
      !erased && iconButton('edit', `Rename ${p}`, () => actions.renameFile(p), { disabled: ro }),
      !erased && iconButton('trash', `Delete ${p}`, () => actions.eraseFile(p), { disabled: ro, cls: 'danger' }),
    ),
  );
}

function fileTree(info: Info): HTMLElement {
  const out = h('div', { class: 'tree', role: 'list', 'aria-label': `Files of ${info.path}` });
  const walk = (n: TreeNode, depth: number) => {
    for (const c of sorted(n)) {
      if (c.children.size && !c.leaf) {
        const collapsed = collapsedFileFolders.has(c.path);
        out.append(
          h(
            'div',
            { role: 'listitem' },
            folderRow(c, depth, collapsed, () => {
              if (collapsed) collapsedFileFolders.delete(c.path);
              else collapsedFileFolders.add(c.path);
              render();
            }),
          ),
        );
        if (!collapsed) walk(c, depth + 1);
      } else if (c.leaf) out.append(h('div', { role: 'listitem' }, fileRow(c, depth, info)));
    }
  };
  walk(tree(workingFiles(info)), 0);
  return out;
}

function codebaseHeader(info: Info): HTMLElement {
  const running = store.program?.running && store.program.codebase === info.path;
  return h(
    'div',
    { class: 'cb-header' },
    h(
      'div',
      { class: 'cb-title' },
      h('strong', { title: info.path }, info.path),
      running && h('span', { class: 'dot running', title: 'Running' }),
    ),
    h(
      'div',
      { class: 'cb-meta' },
      h('span', { class: 'badge' }, `version ${info.version}`),
      hasDraft(info) && h('span', { class: 'badge draft', title: 'Saved changes not committed yet' }, 'draft'),
      info.readOnly && h('span', { class: 'badge ro' }, 'read-only'),
      info.base &&
        h(
          'span',
          { class: 'cb-base' },
          'from ',
          h(
            'a',
            {
              href: `/repo${info.base}/`,
              on: { click: (e: Event) => (e.preventDefault(), actions.openCodebase(info.base!)) },
            },
            info.base,
          ),
        ),
    ),
    info.derived.length > 0 &&
      h(
        'div',
        { class: 'cb-derived' },
        'Derived: ',
        ...info.derived.flatMap((d, i) => [
          i > 0 ? ', ' : '',
          h('a', { href: `/repo${d}/`, on: { click: (e: Event) => (e.preventDefault(), actions.openCodebase(d)) } }, d),
        ]),
      ),
    !info.main || !workingFiles(info).includes(info.main)
      ? h('p', { class: 'note warn' }, 'No main entry: flag a file with ', icon('flag'), ' to run it.')
      : null,
  );
}

// ---------------------------------------------------------------------------

let root: HTMLElement;
let body: HTMLElement;
const tabs: Record<SideTab, HTMLButtonElement> = {} as any;

function render() {
  const tab = store.sideTab;
  for (const [k, b] of Object.entries(tabs)) {
    b.setAttribute('aria-selected', String(k === tab));
    b.tabIndex = k === tab ? 0 : -1;
  }
  const focused = body.contains(document.activeElement) ? focusKey(document.activeElement as HTMLElement) : null;
  if (tab === 'codebases') {
    replace(
      body,
      h(
        'div',
        { class: 'side-toolbar' },
        h(
          'button',
          { class: 'btn small primary', 'aria-label': 'New codebase', on: { click: () => actions.newCodebase() } },
          icon('plus'),
          'New codebase',
        ),
      ),
      codebaseTree(),
    );
  } else if (tab === 'files') {
    const info = store.info;
    if (!store.cb) {
      replace(body, h('p', { class: 'empty' }, 'Open a codebase to see its files.'));
    } else if (!info) {
      replace(body, h('p', { class: 'empty' }, 'Loading…'));
    } else {
      replace(
        body,
        codebaseHeader(info),
        h(
          'div',
          { class: 'side-toolbar' },
          h(
            'button',
            {
              class: 'btn small',
              'aria-label': 'New file',
              disabled: info.readOnly,
              title: info.readOnly ? 'Read-only: open this step to change it' : 'New file (folders are made as needed)',
              on: { click: () => actions.newFile() },
            },
            icon('plus'),
            'New file',
          ),
        ),
        fileTree(info),
      );
    }
  } else {
    replace(
      body,
      h('p', { class: 'side-intro' }, 'Step-by-step tutorials: read a step beside its code, run it, then open it to change it.'),
      tutorials.stepList(),
    );
  }
  if (focused) {
    for (const el of body.querySelectorAll<HTMLElement>('button, a, input')) {
      if (focusKey(el) === focused) {
        el.focus();
        break;
      }
    }
  }
}

function focusKey(el: HTMLElement) {
  return `${el.tagName}|${el.getAttribute('aria-label') ?? ''}|${el.title}|${el.textContent}`;
}

export function mountSidebar(el: HTMLElement) {
  root = el;
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Sidebar' });
  const names: [SideTab, string, string][] = [
    ['codebases', 'Codebases', 'codebases'],
    ['files', 'Files', 'file'],
    ['tutorials', 'Tutorials', 'book'],
  ];
  for (const [k, label, ic] of names) {
    const b = h(
      'button',
      {
        class: 'tab',
        role: 'tab',
        id: `side-tab-${k}`,
        'aria-controls': 'side-body',
        on: {
          click: () => {
            store.sideTab = k;
            render();
          },
          keydown: (e: KeyboardEvent) => arrowTabs(e, Object.values(tabs)),
        },
      },
      h('span', null, label),
    );
    void ic;
    tabs[k] = b;
    tablist.append(b);
  }
  body = h('div', { class: 'side-body', id: 'side-body', role: 'tabpanel' });
  root.append(tablist, body);
  const later = coalesce(render);
  on(['codebases', 'info', 'route', 'file', 'dirty', 'program'], later);
  tutorials.metaLoaded.on(() => store.sideTab === 'tutorials' && later());
  render();
}

/** arrowTabs moves between tabs with the arrow keys (the ARIA tabs pattern). */
export function arrowTabs(e: KeyboardEvent, list: HTMLButtonElement[]) {
  const i = list.indexOf(e.currentTarget as HTMLButtonElement);
  let j = -1;
  if (e.key === 'ArrowRight' || e.key === 'ArrowDown') j = (i + 1) % list.length;
  else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') j = (i - 1 + list.length) % list.length;
  else if (e.key === 'Home') j = 0;
  else if (e.key === 'End') j = list.length - 1;
  if (j < 0) return;
  e.preventDefault();
  list[j].focus();
  list[j].click();
}
