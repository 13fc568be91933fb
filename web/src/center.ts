// The middle of the page: the editor with its toolbar and banners, or the
// home page when no codebase is open.
import * as actions from './actions';
import { coalesce, h, modKey, replace } from './dom';
import * as editor from './editor';
import { icon } from './icons';
import { dirtyFiles, hasDraft, isDirty, isTutorialStep, on, store } from './state';
import * as tutorials from './tutorials';

let pane: HTMLElement;
let toolbar: HTMLElement;
let banners: HTMLElement;
let editorHost: HTMLElement;
let home: HTMLElement;
let empty: HTMLElement;

function renderToolbar() {
  const cb = store.cb;
  const file = store.file;
  const info = store.info;
  const dirty = cb && file ? isDirty(cb, file) : false;
  const ro = !!info?.readOnly;
  const b = editor.currentBuffer();
  const pending = cb ? dirtyFiles(cb).length : 0;
  replace(
    toolbar,
    h(
      'div',
      { class: 'crumbs' },
      file
        ? [
            h('span', { class: 'crumb-file', title: `${cb}${file}` }, file),
            dirty && h('span', { class: 'mark dirty', title: 'Unsaved changes', 'aria-label': 'unsaved changes' }, '●'),
            info?.main === file && h('span', { class: 'badge main', title: 'The main entry' }, icon('flag'), 'main'),
            ro && h('span', { class: 'badge ro' }, 'read-only'),
          ]
        : h('span', { class: 'muted' }, 'No file open'),
    ),
    h('span', { class: 'spacer' }),
    h(
      'button',
      {
        class: 'btn small',
        'aria-label': 'Save',
        title: `Save (${modKey()}+S)`,
        disabled: !b || ro || (!dirty && !b.conflict),
        on: { click: () => actions.save() },
      },
      icon('save'),
      'Save',
    ),
    h(
      'button',
      {
        class: 'btn small',
        'aria-label': 'Commit',
        title:
          info && !ro
            ? `Publish the draft${pending ? ` (and ${pending} unsaved file${pending > 1 ? 's' : ''})` : ''} as version ${
                info.version + 1
              }`
            : 'Nothing to commit',
        disabled: !actions.canCommit(),
        on: { click: () => actions.commit() },
      },
      icon('commit'),
      'Commit',
      info && hasDraft(info) && h('span', { class: 'dot draft', 'aria-hidden': 'true' }),
    ),
  );
}

function renderBanners() {
  const b = editor.currentBuffer();
  const info = store.info;
  const out: HTMLElement[] = [];
  if (b?.conflict) {
    out.push(
      h(
        'div',
        { class: 'banner error conflict', role: 'alert' },
        h(
          'p',
          null,
          h('strong', null, 'Conflict: not saved. '),
          `${b.path} was changed elsewhere (another tab or window) since you opened it. Your changes are still here.`,
        ),
        h(
          'div',
          { class: 'banner-buttons' },
          h(
            'button',
            {
              class: 'btn small',
              on: {
                click: async () => {
                  await editor.reload(b);
                  renderAll();
                },
              },
            },
            'Load theirs (drop mine)',
          ),
          h(
            'button',
            {
              class: 'btn small danger',
              on: {
                click: async () => {
                  try {
                    await editor.save(b, true);
                    await actions.refreshInfo();
                  } catch (e) {
                    actions.report(e, 'Saving');
                  }
                  renderAll();
                },
              },
            },
            'Overwrite with mine',
          ),
        ),
      ),
    );
  }
  if (info?.readOnly && store.cb) {
    const step = isTutorialStep(store.cb) ? store.cb : null;
    out.push(
      h(
        'div',
        { class: 'banner info' },
        h('p', null, step ? 'This tutorial step is read-only.' : `${store.cb} is read-only.`),
        step &&
          h(
            'button',
            { class: 'btn small primary', on: { click: () => tutorials.openStep(step) } },
            icon('derive'),
            'Open this step to edit a copy',
          ),
      ),
    );
  }
  replace(banners, ...out);
}

function renderHome() {
  const list = store.codebases.filter((c) => !c.startsWith('/tutorials/'));
  const steps = tutorials.steps();
  replace(
    home,
    h(
      'div',
      { class: 'home-inner' },
      h('h1', null, 'Sluice console'),
      h(
        'p',
        { class: 'lead' },
        'Write proxy scripts in the Pipy 0.30 style, flag the main one, and run them: the log, the pipeline diagrams and the live figures are on the right and below.',
      ),
      h(
        'div',
        { class: 'home-actions' },
        h(
          'button',
          { class: 'btn primary', 'aria-label': 'New codebase', on: { click: () => actions.newCodebase() } },
          icon('plus'),
          'New codebase',
        ),
        steps.length > 0 &&
          h('button', { class: 'btn', on: { click: () => tutorials.readStep(steps[0]) } }, icon('book'), 'Start the tutorial'),
      ),
      h('h2', null, 'Your codebases'),
      list.length
        ? h(
            'ul',
            { class: 'cards' },
            ...list.map((cb) => {
              const i = store.infos.get(cb);
              const running = store.program?.running && store.program.codebase === cb;
              return h(
                'li',
                null,
                h(
                  'a',
                  {
                    class: 'card',
                    href: `/repo${cb}/`,
                    on: { click: (e: MouseEvent) => (e.preventDefault(), actions.openCodebase(cb)) },
                  },
                  h('strong', null, cb),
                  h(
                    'span',
                    { class: 'card-meta' },
                    i ? `version ${i.version}` : '',
                    hasDraft(i) && h('span', { class: 'badge draft' }, 'draft'),
                    running && h('span', { class: 'badge running' }, 'running'),
                  ),
                  i && h('span', { class: 'card-sub' }, i.main ? `main ${i.main}` : 'no main entry', i.base ? ` · from ${i.base}` : ''),
                ),
              );
            }),
          )
        : h('p', { class: 'empty' }, 'None yet: create one, or open a tutorial step.'),
      steps.length > 0 && h('h2', null, 'Tutorials'),
      steps.length > 0 && tutorials.stepList(),
    ),
  );
}

function renderAll() {
  const open = !!store.cb;
  home.hidden = open;
  toolbar.hidden = !open;
  editorHost.hidden = !open || !store.file;
  empty.hidden = !open || !!store.file;
  if (open) {
    renderToolbar();
    renderBanners();
    if (!store.file) {
      replace(
        empty,
        store.info
          ? h(
              'p',
              null,
              'No file open. ',
              !store.info.readOnly &&
                h('button', { class: 'btn small', on: { click: () => actions.newFile() } }, icon('plus'), 'New file'),
            )
          : h('p', null, 'Loading…'),
      );
    }
  } else {
    replace(banners);
    renderHome();
  }
}

export function mountCenter(el: HTMLElement) {
  pane = el;
  toolbar = h('div', { class: 'editor-toolbar', role: 'toolbar', 'aria-label': 'File' });
  banners = h('div', { class: 'banners' });
  editorHost = h('div', { class: 'editor-host' });
  empty = h('div', { class: 'editor-empty' });
  home = h('div', { class: 'home' });
  pane.append(toolbar, banners, editorHost, empty, home);
  editor.mount(editorHost);
  on(['route', 'info', 'file', 'dirty', 'codebases', 'program'], coalesce(renderAll));
  editor.conflicts.on(() => {
    renderBanners();
    renderToolbar();
  });
  tutorials.metaLoaded.on(coalesce(() => !store.cb && renderHome()));
  renderAll();
}
