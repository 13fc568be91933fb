// The editor: one CodeMirror view whose state is swapped per open file, the
// buffers of every file opened (so unsaved edits survive switching files or
// codebases), saving with If-Match, and the compile check that feeds both
// the inline diagnostics and the diagram.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript, javascriptLanguage, typescriptLanguage } from '@codemirror/lang-javascript';
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import {
  bracketMatching,
  foldGutter,
  foldKeymap,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from '@codemirror/language';
import { forceLinting, linter, lintGutter, lintKeymap, type Diagnostic } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { EditorState, Prec, type Extension } from '@codemirror/state';
import {
  crosshairCursor,
  drawSelection,
  dropCursor,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from '@codemirror/view';
import * as api from './api';
import { ApiError, type Graph } from './api';
import { apiCompletion, apiHover, apiSignature } from './completion';
import { Emitter } from './dom';
import { dirtyKey, emit, store } from './state';
import { editorTheme, highlightStyle } from './theme';

export interface Buffer {
  cb: string;
  path: string;
  state: EditorState;
  etag: string;
  saved: string; // the text as last loaded or saved
  conflict: boolean;
  readOnly: boolean;
}

/** A module's graph as the compile check found it, or its error. */
export interface FileGraph {
  cb: string;
  path: string;
  graph: Graph | null;
  error: ApiError | null;
  source: string;
}

export const graphs = new Emitter<FileGraph>();
export const saved = new Emitter<Buffer>();
export const conflicts = new Emitter<Buffer | null>();

const buffers = new Map<string, Buffer>();
let view: EditorView | null = null;
let current: Buffer | null = null;

export function isScript(path: string) {
  return /\.(m?js|ts)$/i.test(path);
}

function language(path: string): Extension {
  const ext = path.toLowerCase().split('.').pop() ?? '';
  const complete = autocompletion({ activateOnTyping: true, icons: true });
  switch (ext) {
    case 'js':
    case 'mjs':
    case 'cjs':
      return [
        javascript(),
        javascriptLanguage.data.of({ autocomplete: apiCompletion(() => store.api) }),
        apiHover(() => store.api),
        apiSignature(() => store.api),
        complete,
      ];
    case 'ts':
      return [
        javascript({ typescript: true }),
        typescriptLanguage.data.of({ autocomplete: apiCompletion(() => store.api) }),
        apiHover(() => store.api),
        apiSignature(() => store.api),
        complete,
      ];
    case 'json':
      return [json(), linter(jsonParseLinter(), { delay: 400 }), lintGutter()];
    case 'yaml':
    case 'yml':
      return [yaml()];
  }
  return [];
}

/** compileCheck posts the script to POST /api/v1/graph and turns errors into diagnostics. */
function compileCheck(b: Buffer): Extension {
  return [
    linter(
      async (v) => {
        const source = v.state.doc.toString();
        try {
          const main = store.infos.get(b.cb)?.main;
          const g = await api.graph(source, b.path, b.cb, main && isScript(main) ? main : undefined);
          graphs.emit({ cb: b.cb, path: b.path, graph: g, error: null, source });
          return [];
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 400) return [];
          graphs.emit({ cb: b.cb, path: b.path, graph: null, error: e, source });
          return [diagnostic(v.state, b.path, e)];
        }
      },
      { delay: 600 },
    ),
    lintGutter(),
  ];
}

/** diagnostic places a script error in the document. */
export function diagnostic(state: EditorState, path: string, e: ApiError): Diagnostic {
  const doc = state.doc;
  if (e.file && e.file !== path) {
    const where = e.line ? `${e.file}:${e.line}:${e.column ?? 1}` : e.file;
    return { from: 0, to: Math.min(doc.line(1).to, 1), severity: 'error', message: `In ${where}: ${e.message}` };
  }
  if (!e.line || e.line > doc.lines) {
    return { from: 0, to: Math.min(doc.length, 1), severity: 'error', message: e.message };
  }
  const line = doc.line(e.line);
  const from = line.from + Math.min(Math.max((e.column ?? 1) - 1, 0), line.length);
  let to = from;
  const word = /^[\w$]+/.exec(line.text.slice(from - line.from));
  to = word ? from + word[0].length : Math.min(from + 1, line.to);
  if (to === from && from > line.from) return { from: from - 1, to: from, severity: 'error', message: e.message };
  return { from, to, severity: 'error', message: e.message };
}

function extensions(b: Buffer): Extension[] {
  return [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    foldGutter(),
    drawSelection(),
    dropCursor(),
    EditorState.allowMultipleSelections.of(true),
    indentOnInput(),
    indentUnit.of('  '),
    EditorState.tabSize.of(2),
    syntaxHighlighting(highlightStyle),
    bracketMatching(),
    closeBrackets(),
    rectangularSelection(),
    crosshairCursor(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    Prec.highest(
      keymap.of([
        {
          key: 'Mod-s',
          preventDefault: true,
          run: () => {
            void save();
            return true;
          },
        },
      ]),
    ),
    keymap.of([
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...searchKeymap,
      ...historyKeymap,
      ...foldKeymap,
      ...completionKeymap,
      ...lintKeymap,
      indentWithTab,
    ]),
    editorTheme,
    EditorView.contentAttributes.of({ 'aria-label': `Editor: ${b.path}` }),
    // Long lines wrap in a narrow window, where scrolling sideways is awkward.
    matchMedia('(max-width: 900px)').matches ? EditorView.lineWrapping : [],
    EditorState.readOnly.of(b.readOnly),
    language(b.path),
    isScript(b.path) ? compileCheck(b) : [],
  ];
}

function key(cb: string, path: string) {
  return dirtyKey(cb, path);
}

export function buffer(cb: string, path: string) {
  return buffers.get(key(cb, path)) ?? null;
}

export function currentBuffer() {
  return current;
}

function setDirty(b: Buffer) {
  const k = key(b.cb, b.path);
  const dirty = b.state.doc.length !== b.saved.length || b.state.doc.toString() !== b.saved;
  if (dirty !== store.dirty.has(k)) {
    if (dirty) store.dirty.add(k);
    else store.dirty.delete(k);
    emit('dirty');
  }
}

function newState(b: Buffer, text: string) {
  return EditorState.create({ doc: text, extensions: extensions(b) });
}

/** load returns the buffer of a file, reading it when it is not open yet. */
export async function load(cb: string, path: string, readOnly: boolean): Promise<Buffer> {
  const existing = buffers.get(key(cb, path));
  if (existing) {
    if (existing.readOnly !== readOnly) {
      existing.readOnly = readOnly;
      existing.state = newState(existing, existing.state.doc.toString());
    }
    return existing;
  }
  const { text, etag } = await api.readFile(cb, path);
  const b: Buffer = { cb, path, etag, saved: text, conflict: false, readOnly, state: null as unknown as EditorState };
  b.state = newState(b, text);
  buffers.set(key(cb, path), b);
  return b;
}

let host: HTMLElement | null = null;

/** mount names where the editor goes; the view is made when a file is first shown. */
export function mount(parent: HTMLElement) {
  host = parent;
}

function ensureView(): EditorView {
  if (view) return view;
  view = new EditorView({
    parent: host!,
    dispatchTransactions: (trs, v) => {
      v.update(trs);
      if (current) {
        current.state = v.state;
        if (trs.some((t) => t.docChanged)) setDirty(current);
      }
    },
  });
  return view;
}

/** show puts a buffer in the view (null: none). */
export function show(b: Buffer | null) {
  if (!view && !b) return;
  const v = ensureView();
  if (current && current !== b) current.state = v.state;
  current = b;
  v.setState(b ? b.state : EditorState.create({ doc: '' }));
  conflicts.emit(b?.conflict ? b : null);
}

export function focus() {
  view?.focus();
}

export function editorView() {
  return view;
}

/** recheck runs the compile check of the shown file again (after a save elsewhere). */
export function recheck() {
  if (view && current && isScript(current.path)) forceLinting(view);
}

/** goTo moves the cursor to a line and column and focuses the editor. */
export function goTo(line: number, column = 1) {
  if (!view) return;
  const doc = view.state.doc;
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  const pos = l.from + Math.min(Math.max(column - 1, 0), l.length);
  view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
  view.focus();
}

export class ConflictError extends Error {}

/**
 * save writes a buffer (the shown one by default) as a draft, with the ETag
 * it was read with: a 412 marks the buffer as in conflict. force saves
 * without the check.
 */
export async function save(b: Buffer | null = current, force = false): Promise<boolean> {
  if (!b || b.readOnly) return false;
  if (b === current && view) b.state = view.state;
  const text = b.state.doc.toString();
  try {
    b.etag = await api.saveFile(b.cb, b.path, text, { etag: force ? undefined : b.etag || undefined });
  } catch (e) {
    if (e instanceof ApiError && e.status === 412) {
      b.conflict = true;
      if (b === current) conflicts.emit(b);
      return false;
    }
    throw e;
  }
  b.saved = text;
  if (b.conflict) {
    b.conflict = false;
    if (b === current) conflicts.emit(null);
  }
  setDirty(b);
  saved.emit(b);
  if (b === current && view && isScript(b.path)) forceLinting(view);
  return true;
}

/** saveAll saves every unsaved buffer of a codebase; false when one is in conflict. */
export async function saveAll(cb: string): Promise<boolean> {
  let ok = true;
  for (const b of buffers.values()) {
    if (b.cb === cb && store.dirty.has(key(b.cb, b.path))) ok = (await save(b)) && ok;
  }
  return ok;
}

/** reload replaces a buffer's text with the file's as saved (theirs). */
export async function reload(b: Buffer) {
  const { text, etag } = await api.readFile(b.cb, b.path);
  b.etag = etag;
  b.saved = text;
  b.conflict = false;
  if (b === current && view) {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    b.state = view.state;
    conflicts.emit(null);
  } else {
    b.state = b.state.update({ changes: { from: 0, to: b.state.doc.length, insert: text } }).state;
  }
  setDirty(b);
}

/**
 * revalidate reloads clean buffers of a codebase whose file changed on the
 * server (another tab saved it), and forgets those of files that are gone.
 */
export async function revalidate(cb: string, files: Set<string>) {
  for (const b of [...buffers.values()]) {
    if (b.cb !== cb || store.dirty.has(key(b.cb, b.path))) continue;
    if (!files.has(b.path)) {
      if (b !== current) buffers.delete(key(b.cb, b.path));
      continue;
    }
    try {
      const { text, etag } = await api.readFile(cb, b.path);
      if (etag !== b.etag && !store.dirty.has(key(b.cb, b.path))) {
        b.etag = etag;
        if (text !== b.saved) {
          b.saved = text;
          if (b === current && view) {
            view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
            b.state = view.state;
          } else {
            b.state = b.state.update({ changes: { from: 0, to: b.state.doc.length, insert: text } }).state;
          }
        }
      }
    } catch {
      // gone meanwhile: the next info refresh tells
    }
  }
}

/** forget drops the buffers of a codebase (deleted) or of one file (renamed, erased). */
export function forget(cb: string, path?: string) {
  for (const [k, b] of buffers) {
    if (b.cb === cb && (path === undefined || b.path === path)) {
      buffers.delete(k);
      if (store.dirty.delete(k)) emit('dirty');
      if (b === current) show(null);
    }
  }
}

/** text returns a buffer's current text. */
export function text(b: Buffer) {
  return b === current && view ? view.state.doc.toString() : b.state.doc.toString();
}
