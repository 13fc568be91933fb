// Modal dialogs (<dialog>, so focus stays inside and Escape cancels) and
// toasts (an aria-live region).
import { h } from './dom';
import { icon } from './icons';

export interface Field {
  name: string;
  label: string;
  value?: string;
  placeholder?: string;
  hint?: string;
  options?: { value: string; label: string }[]; // a select
}

/**
 * form shows a dialog with fields and resolves with their values, or null
 * when cancelled. validate returns an error message to keep it open.
 */
export function form(opts: {
  title: string;
  fields: Field[];
  submit: string;
  danger?: boolean;
  text?: string;
  validate?: (v: Record<string, string>) => string | null | Promise<string | null>;
}): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    const inputs: Record<string, HTMLInputElement | HTMLSelectElement> = {};
    const error = h('p', { class: 'dialog-error', role: 'alert' });
    const rows = opts.fields.map((f) => {
      const id = `f-${f.name}-${Math.random().toString(36).slice(2, 7)}`;
      const input = f.options
        ? h('select', { id, name: f.name }, ...f.options.map((o) => h('option', { value: o.value }, o.label)))
        : h('input', {
            id,
            name: f.name,
            type: 'text',
            value: f.value ?? '',
            placeholder: f.placeholder ?? '',
            autocomplete: 'off',
            spellcheck: false,
          });
      if (f.options && f.value !== undefined) input.value = f.value;
      inputs[f.name] = input;
      return h('div', { class: 'field' }, h('label', { for: id }, f.label), input, f.hint && h('small', null, f.hint));
    });
    const dlg = h(
      'dialog',
      { class: 'dialog', 'aria-label': opts.title },
      h(
        'form',
        { method: 'dialog' },
        h('h2', null, opts.title),
        opts.text && h('p', null, opts.text),
        ...rows,
        error,
        h(
          'div',
          { class: 'dialog-buttons' },
          h('button', { type: 'button', class: 'btn', value: 'cancel', on: { click: () => close(null) } }, 'Cancel'),
          h('button', { type: 'submit', class: opts.danger ? 'btn danger' : 'btn primary', value: 'ok' }, opts.submit),
        ),
      ),
    );
    let done = false;
    const close = (v: Record<string, string> | null) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(null);
    });
    dlg.querySelector('form')!.addEventListener('submit', async (e) => {
      e.preventDefault();
      const values: Record<string, string> = {};
      for (const [k, el] of Object.entries(inputs)) values[k] = el.value.trim();
      const msg = opts.validate ? await opts.validate(values) : null;
      if (msg) {
        error.textContent = msg;
        return;
      }
      close(values);
    });
    document.body.append(dlg);
    dlg.showModal();
    const first = Object.values(inputs)[0];
    if (first instanceof HTMLInputElement) {
      first.focus();
      // Select the name part of a path, as file managers do.
      const v = first.value;
      const slash = v.lastIndexOf('/') + 1;
      const dot = v.lastIndexOf('.');
      first.setSelectionRange(slash, dot > slash ? dot : v.length);
    } else {
      (dlg.querySelector('button[type=submit]') as HTMLButtonElement).focus();
    }
  });
}

/** confirm asks a yes/no question. */
export async function confirm(title: string, text: string, submit: string, danger = true): Promise<boolean> {
  return (await form({ title, text, fields: [], submit, danger })) !== null;
}

let toasts: HTMLElement | null = null;

/** toast shows a short message; errors stay until dismissed. */
export function toast(message: string, kind: 'info' | 'error' | 'ok' = 'info', detail?: string) {
  if (!toasts) {
    toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toasts);
  }
  const el = h(
    'div',
    { class: `toast ${kind}` },
    h('div', { class: 'toast-text' }, message, detail && h('pre', null, detail)),
    h(
      'button',
      { class: 'icon-btn', 'aria-label': 'Dismiss', title: 'Dismiss', on: { click: () => el.remove() } },
      icon('close'),
    ),
  );
  toasts.append(el);
  while (toasts.children.length > 3) toasts.firstElementChild!.remove();
  if (kind !== 'error') setTimeout(() => el.remove(), 3000);
}
