// Completion and hover help for the scripting API, from the description the
// server gives (GET /api/v1/api): the pipy() configuration methods and the
// filters after a dot in a chain, the globals and classes, their members.
import type { Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { syntaxTree } from '@codemirror/language';
import { StateField, type EditorState } from '@codemirror/state';
import { hoverTooltip, showTooltip, type EditorView, type Tooltip } from '@codemirror/view';
import type { SyntaxNode } from '@lezer/common';
import type { ApiDescription, ApiEntry } from './api';
import { h } from './dom';

interface Index {
  chain: Completion[]; // configuration methods and filters
  globals: Completion[]; // top-level names
  ctors: Completion[]; // classes one can new
  members: Map<string, Completion[]>; // by object path: "algo", "pipy", "crypto.JWT"
  anyMember: Completion[]; // instance members of every class, for unknown objects
  byName: Map<string, ApiEntry>; // for hover: filter and method names, class paths
}

function infoNode(e: ApiEntry, kind?: string) {
  return () =>
    h(
      'div',
      { class: 'api-info' },
      h('code', null, e.signature),
      kind && h('span', { class: 'api-kind' }, kind),
      h('p', null, e.help),
    );
}

function isCallable(sig: string) {
  return /^[\w$.]+\s*\(/.test(sig) || sig.startsWith('new ');
}

/** apply inserts name(), the cursor between the brackets, unless a bracket follows. */
function callApply(name: string) {
  return (view: EditorView, _c: Completion, from: number, to: number) => {
    const next = view.state.sliceDoc(to, to + 1);
    if (next === '(') {
      view.dispatch({ changes: { from, to, insert: name }, selection: { anchor: from + name.length + 1 } });
    } else {
      view.dispatch({ changes: { from, to, insert: name + '()' }, selection: { anchor: from + name.length + 1 } });
    }
  };
}

function build(d: ApiDescription): Index {
  const idx: Index = { chain: [], globals: [], ctors: [], members: new Map(), anyMember: [], byName: new Map() };
  for (const e of d.configuration) {
    idx.chain.push({
      label: e.name,
      type: 'method',
      detail: 'pipy()',
      boost: 2,
      info: infoNode(e, 'configuration'),
      apply: callApply(e.name),
    });
    idx.byName.set(e.name, e);
  }
  for (const e of d.filters) {
    idx.chain.push({
      label: e.name,
      type: 'function',
      detail: e.joint ? 'joint filter' : 'filter',
      boost: 1,
      info: infoNode(e, e.joint ? 'joint filter: runs a sub-pipeline' : 'filter'),
      apply: callApply(e.name),
    });
    idx.byName.set(e.name, e);
  }
  const add = (obj: string, c: Completion) => {
    if (!idx.members.has(obj)) idx.members.set(obj, []);
    const list = idx.members.get(obj)!;
    if (!list.some((x) => x.label === c.label)) list.push(c);
  };
  const seenMember = new Set<string>();
  const globals = new Map<string, Completion>();
  for (const cls of d.classes) {
    idx.byName.set(cls.name, cls);
    const parts = cls.name.split('.');
    const top = parts[0];
    const ctor = cls.signature.startsWith('new ');
    const type = ctor ? 'class' : isCallable(cls.signature) ? 'function' : 'namespace';
    if (parts.length === 1) {
      globals.set(top, {
        label: top,
        type,
        detail: ctor ? 'class' : '',
        info: infoNode(cls),
        apply: type === 'function' ? callApply(top) : undefined,
      });
    } else {
      if (!globals.has(top)) globals.set(top, { label: top, type: 'namespace' });
      add(parts.slice(0, -1).join('.'), {
        label: parts[parts.length - 1],
        type,
        detail: ctor ? 'class' : '',
        info: infoNode(cls),
        apply: type === 'function' ? callApply(parts[parts.length - 1]) : undefined,
      });
    }
    if (ctor) idx.ctors.push({ label: cls.name, type: 'class', info: infoNode(cls), apply: callApply(cls.name) });
    for (const m of cls.members ?? []) {
      const callable = isCallable(m.signature.replace(/^[\w$.]+\./, ''));
      const c: Completion = {
        label: m.name,
        type: callable ? 'method' : 'property',
        detail: cls.name,
        info: infoNode(m),
        apply: callable ? callApply(m.name) : undefined,
      };
      add(cls.name, c);
      idx.byName.set(`${cls.name}.${m.name}`, m);
      if (!m.static && !seenMember.has(m.name)) {
        seenMember.add(m.name);
        idx.anyMember.push({ ...c, boost: -1 });
      }
    }
  }
  idx.globals = [...globals.values()];
  return idx;
}

const skipNodes = new Set(['String', 'TemplateString', 'LineComment', 'BlockComment', 'RegExp']);

/** apiCompletion returns a completion source for JavaScript and TypeScript. */
export function apiCompletion(getApi: () => ApiDescription | null) {
  let cached: { d: ApiDescription; idx: Index } | null = null;
  const index = () => {
    const d = getApi();
    if (!d) return null;
    if (cached?.d !== d) cached = { d, idx: build(d) };
    return cached.idx;
  };
  return (ctx: CompletionContext): CompletionResult | null => {
    const idx = index();
    if (!idx) return null;
    const node = syntaxTree(ctx.state).resolveInner(ctx.pos, -1);
    if (skipNodes.has(node.name)) return null;
    const line = ctx.state.doc.lineAt(ctx.pos);
    const before = line.text.slice(0, ctx.pos - line.from);
    const valid = /^[\w$]*$/;

    // obj.path.wo|rd
    let m = /(?:^|[^\w$.])((?:[\w$]+\.)*[\w$]+)\.([\w$]*)$/.exec(before);
    if (m) {
      const [, obj, word] = m;
      const from = ctx.pos - word.length;
      const known = idx.members.get(obj);
      if (known) return { from, options: known, validFor: valid };
      if (obj === 'pipy' || /^\d+$/.test(obj)) return null;
      if (!word && !ctx.explicit) return null;
      return { from, options: idx.anyMember, validFor: valid };
    }
    // ).wo|rd, or .wo|rd at the start of a line: a pipy() chain
    m = /(?:[)\]]\s*|^\s*)\.([\w$]*)$/.exec(before);
    if (m) return { from: ctx.pos - m[1].length, options: idx.chain, validFor: valid };
    // new Cl|
    m = /\bnew\s+([\w$.]*)$/.exec(before);
    if (m) return { from: ctx.pos - m[1].length, options: idx.ctors, validFor: /^[\w$.]*$/ };
    // a name
    m = /(?:^|[^\w$.])([\w$]+)$/.exec(before);
    if (m || ctx.explicit) {
      const word = m ? m[1] : '';
      if (!word && !ctx.explicit) return null;
      return { from: ctx.pos - word.length, options: idx.globals, validFor: valid };
    }
    return null;
  };
}

/** apiHover shows an API name's signature and help under the mouse. */
export function apiHover(getApi: () => ApiDescription | null) {
  let cached: { d: ApiDescription; idx: Index } | null = null;
  return hoverTooltip((view, pos): Tooltip | null => {
    const d = getApi();
    if (!d) return null;
    if (cached?.d !== d) cached = { d, idx: build(d) };
    const { idx } = cached;
    const line = view.state.doc.lineAt(pos);
    const text = line.text;
    let start = pos - line.from;
    let end = start;
    while (start > 0 && /[\w$.]/.test(text[start - 1])) start--;
    while (end < text.length && /[\w$]/.test(text[end])) end++;
    if (start === end) return null;
    const expr = text.slice(start, end).replace(/^\.+/, '');
    const word = expr.split('.').pop()!;
    const isChain = text[start] === '.' || /^\s*$/.test(text.slice(0, start)) || text[start - 1] === ')';
    let e = idx.byName.get(expr);
    if (!e && isChain) {
      const f = idx.byName.get(word);
      if (f && idx.chain.some((c) => c.label === word)) e = f;
    }
    if (!e) return null;
    const entry = e;
    return {
      pos: line.from + start,
      end: line.from + end,
      above: true,
      create: () => ({ dom: infoNode(entry)() }),
    };
  });
}

/**
 * apiSignature shows the signature of the API call the cursor is in, over
 * the line: typing serveHTTP( shows serveHTTP(handler: Message | …).
 */
export function apiSignature(getApi: () => ApiDescription | null) {
  let cached: { d: ApiDescription; idx: Index } | null = null;
  const find = (state: EditorState): Tooltip | null => {
    const d = getApi();
    const sel = state.selection.main;
    if (!d || !sel.empty) return null;
    if (cached?.d !== d) cached = { d, idx: build(d) };
    const { idx } = cached;
    const text = (n: { from: number; to: number }) => state.sliceDoc(n.from, n.to);
    for (let n: SyntaxNode | null = syntaxTree(state).resolveInner(sel.head, -1); n; n = n.parent) {
      if (n.name !== 'ArgList' || sel.head <= n.from) continue;
      if (n.to === sel.head && text(n).endsWith(')')) continue; // just after the call
      // Only on the line of the bracket: not over a long function argument.
      if (state.doc.lineAt(n.from).number !== state.doc.lineAt(sel.head).number) return null;
      const call = n.parent;
      if (!call) return null;
      const callee = call.firstChild;
      if (!callee) return null;
      let e: ApiEntry | undefined;
      if (call.name === 'NewExpression') {
        const cls = call.getChild('VariableName') ?? call.getChild('MemberExpression');
        if (cls) e = idx.byName.get(text(cls));
      } else if (callee.name === 'MemberExpression') {
        const whole = text(callee).replace(/\s+/g, '');
        const prop = callee.lastChild ? text(callee.lastChild) : '';
        e = idx.byName.get(whole) ?? (idx.chain.some((c) => c.label === prop) ? idx.byName.get(prop) : undefined);
      } else if (callee.name === 'VariableName') {
        e = idx.byName.get(text(callee));
      }
      if (!e || !e.signature.includes('(')) return null;
      const entry = e;
      return {
        pos: n.from,
        above: true,
        strictSide: true,
        arrow: false,
        create: () => ({ dom: h('div', { class: 'api-signature' }, h('code', null, entry.signature)) }),
      };
    }
    return null;
  };
  return StateField.define<Tooltip | null>({
    create: find,
    update(value, tr) {
      if (!tr.docChanged && !tr.selection) return value;
      return find(tr.state);
    },
    provide: (f) => showTooltip.from(f),
  });
}
