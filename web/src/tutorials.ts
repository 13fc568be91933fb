// The bundled tutorials: each step is a read-only codebase /tutorials/NN-name
// with its text (README.md) and manifest (tutorial.json). "Open this step"
// derives an editable codebase /learn/NN-name from it.
import * as actions from './actions';
import * as api from './api';
import { toast } from './dialog';
import { debounce, Emitter, h } from './dom';
import { icon } from './icons';
import { renderMarkdown } from './markdown';
import { isTutorialStep, store } from './state';

export interface StepMeta {
  title: string;
  summary?: string;
  base?: string;
  main?: string;
  services?: { name: string; codebase: string; main: string }[];
}

const metas = new Map<string, StepMeta>();
const pending = new Map<string, Promise<StepMeta | null>>();
export const metaLoaded = new Emitter<void>();
// The steps' manifests arrive one by one: tell the views once per burst.
const announce = debounce(() => metaLoaded.emit(), 30);

export function steps(): string[] {
  return store.codebases.filter(isTutorialStep).sort();
}

export function stepName(cb: string) {
  return cb.split('/').pop() ?? cb;
}

export function stepNumber(cb: string) {
  return parseInt(stepName(cb), 10);
}

export function meta(cb: string): StepMeta | null {
  return metas.get(cb) ?? null;
}

let loading = false;

/**
 * loadMetas reads every step's manifest (their titles), after the page's
 * first load so that they do not hold it up.
 */
export function loadMetas() {
  loading = true;
  for (const cb of steps()) void loadMeta(cb);
}

/** loadMeta reads a step's tutorial.json once. */
export function loadMeta(cb: string): Promise<StepMeta | null> {
  if (metas.has(cb)) return Promise.resolve(metas.get(cb)!);
  if (!pending.has(cb)) {
    pending.set(
      cb,
      api
        .readFile(cb, '/tutorial.json')
        .then(({ text }) => {
          const m = JSON.parse(text) as StepMeta;
          metas.set(cb, m);
          announce();
          return m;
        })
        .catch(() => null),
    );
  }
  return pending.get(cb)!;
}

/** tutorialOf names the tutorial step a codebase is, or derives from. */
export function tutorialOf(cb: string | null): string | null {
  for (let c = cb, i = 0; c && i < 20; i++) {
    if (isTutorialStep(c)) return c;
    c = store.infos.get(c)?.base ?? null;
  }
  return null;
}

export function learnPath(step: string) {
  return `/learn/${stepName(step)}`;
}

/** openStep derives /learn/NN-name from a step (or reopens it) and opens its main file. */
export async function openStep(step: string) {
  const target = learnPath(step);
  if (!store.codebases.includes(target)) {
    try {
      await api.createCodebase(target, step);
    } catch (e) {
      actions.report(e, `Opening ${step}`);
      return;
    }
    toast(`Created ${target} from ${step}: edit it freely`, 'ok');
    await actions.refreshList();
  }
  store.panelTab = 'guide';
  actions.openCodebase(target);
}

/** readStep shows a step: its code in the editor, its text in the guide. */
export function readStep(step: string) {
  store.panelTab = 'guide';
  actions.openCodebase(step);
}

/** The sidebar's list of steps. */
export function stepList(): HTMLElement {
  const list = h('ol', { class: 'steps' });
  const current = tutorialOf(store.cb);
  for (const cb of steps()) {
    const m = meta(cb);
    if (!m && loading) void loadMeta(cb);
    const n = stepNumber(cb);
    list.append(
      h(
        'li',
        null,
        h(
          'button',
          {
            class: `step${cb === current ? ' current' : ''}`,
            'aria-current': cb === current ? 'page' : undefined,
            on: { click: () => readStep(cb) },
          },
          h('span', { class: 'step-n' }, String(n).padStart(2, '0')),
          h(
            'span',
            { class: 'step-text' },
            h('span', { class: 'step-title' }, m?.title ?? stepName(cb).replace(/^\d+-/, '').replace(/-/g, ' ')),
            m?.summary && h('span', { class: 'step-summary' }, m.summary),
          ),
        ),
      ),
    );
  }
  return list;
}

/** guide renders the open codebase's README.md, with the tutorial's controls. */
export async function guide(cb: string, readme: string | null): Promise<HTMLElement> {
  const step = tutorialOf(cb);
  const all = steps();
  const el = h('article', { class: 'guide' });
  if (step) {
    const i = all.indexOf(step);
    const m = await loadMeta(step);
    const readOnly = cb === step;
    const prev = all[i - 1];
    const next = all[i + 1];
    const nav = (target: string | undefined, label: string, ic: string) =>
      h(
        'button',
        {
          class: 'btn small',
          disabled: !target,
          'aria-label': target ? `${label} step: ${stepName(target)}` : `${label} step`,
          title: target ? stepName(target) : undefined,
          on: { click: () => target && readStep(target) },
        },
        icon(ic),
        label,
      );
    el.append(
      h(
        'div',
        { class: 'guide-bar' },
        h('span', { class: 'guide-step' }, `Step ${i + 1} of ${all.length}`),
        nav(prev, 'Previous', 'left'),
        nav(next, 'Next', 'right'),
        h('span', { class: 'spacer' }),
        readOnly &&
          h(
            'button',
            {
              class: 'btn small primary',
              'aria-label': 'Open this step',
              title: `Make an editable copy, ${learnPath(step)}, and open it`,
              on: { click: () => openStep(step) },
            },
            icon('derive'),
            'Open this step',
          ),
        h(
          'button',
          {
            class: 'btn small run',
            'aria-label': readOnly ? 'Run this step' : `Run ${cb}`,
            on: { click: () => actions.run(cb) },
          },
          icon('play'),
          'Run',
        ),
      ),
    );
    if (!readOnly) {
      el.append(
        h(
          'p',
          { class: 'note' },
          `Your copy of `,
          h('a', { href: `/repo${step}/`, on: { click: (e: Event) => (e.preventDefault(), readStep(step)) } }, step),
          '. Change it as you like; the step itself stays as it was.',
        ),
      );
    }
    if (m?.services?.length) {
      el.append(
        h(
          'p',
          { class: 'note warn' },
          'This step talks to helper services (',
          m.services.map((s) => s.name).join(', '),
          '). The console runs one program at a time: start them in a terminal with ',
          h('code', null, `sluice --tutorial ${String(stepNumber(step)).padStart(2, '0')}`),
          ', which runs the step and its services together.',
        ),
      );
    }
  }
  if (readme === null) {
    el.append(h('p', { class: 'empty' }, 'This codebase has no README.md.'));
  } else {
    el.append(h('div', { class: 'markdown' }, renderMarkdown(readme)));
  }
  return el;
}
