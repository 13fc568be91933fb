// The editor's theme and syntax colours (also used for code in the guides).
import { HighlightStyle } from '@codemirror/language';
import { EditorView } from '@codemirror/view';
import { tags as t } from '@lezer/highlight';

export const highlightStyle = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.moduleKeyword, t.operatorKeyword], color: '#c792ea' },
  { tag: [t.definitionKeyword, t.modifier], color: '#c792ea' },
  { tag: [t.string, t.special(t.string), t.regexp], color: '#a5d67e' },
  { tag: [t.number, t.bool, t.null, t.atom], color: '#f0a36c' },
  { tag: [t.comment, t.lineComment, t.blockComment], color: '#6f7888', fontStyle: 'italic' },
  { tag: [t.function(t.propertyName), t.function(t.variableName)], color: '#6fb8ff' },
  { tag: [t.propertyName], color: '#89ddff' },
  { tag: [t.definition(t.variableName), t.definition(t.propertyName)], color: '#e2e6ee' },
  { tag: [t.variableName], color: '#dde1e8' },
  { tag: [t.typeName, t.className, t.namespace], color: '#ffcb6b' },
  { tag: [t.operator, t.punctuation, t.separator, t.bracket], color: '#a6adbb' },
  { tag: [t.heading], color: '#6fb8ff', fontWeight: 'bold' },
  { tag: [t.link, t.url], color: '#89ddff', textDecoration: 'underline' },
  { tag: [t.invalid], color: '#ff6b78' },
  { tag: [t.meta, t.annotation], color: '#9aa3b2' },
]);

export const editorTheme = EditorView.theme(
  {
    '&': { color: 'var(--text)', backgroundColor: 'var(--editor-bg)', height: '100%', fontSize: '13px' },
    '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.55' },
    '.cm-content': { caretColor: '#7cc4ff', padding: '8px 0' },
    '.cm-cursor, .cm-dropCursor': { borderLeftColor: '#7cc4ff', borderLeftWidth: '2px' },
    '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection': {
      backgroundColor: '#2c4a6e !important',
    },
    '.cm-activeLine': { backgroundColor: '#ffffff08' },
    '.cm-gutters': { backgroundColor: 'var(--editor-bg)', color: '#5b6372', border: 'none' },
    '.cm-activeLineGutter': { backgroundColor: 'transparent', color: '#aeb6c4' },
    '.cm-foldPlaceholder': { backgroundColor: '#2a2e38', border: 'none', color: '#9aa3b2' },
    '.cm-tooltip': { backgroundColor: '#252933', border: '1px solid #3a3f4b', color: 'var(--text)', borderRadius: '6px' },
    '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: '#2f5d8a', color: '#fff' },
    '.cm-tooltip.cm-completionInfo': { maxWidth: '420px', padding: '8px 10px' },
    '.cm-completionDetail': { color: '#8b93a3', fontStyle: 'normal', marginLeft: '1em' },
    '.cm-completionMatchedText': { textDecoration: 'none', color: '#7cc4ff', fontWeight: '600' },
    '.cm-panels': { backgroundColor: 'var(--panel)', color: 'var(--text)' },
    '.cm-searchMatch': { backgroundColor: '#6b5a1f80', outline: '1px solid #8f7a2a' },
    '.cm-selectionMatch': { backgroundColor: '#ffffff14' },
    '.cm-matchingBracket, .cm-nonmatchingBracket': { backgroundColor: '#ffffff1c', outline: '1px solid #ffffff30' },
    '.cm-diagnostic-error': { borderLeftColor: 'var(--error)' },
    '.cm-lintRange-error': {
      backgroundImage: 'none',
      textDecoration: 'underline wavy var(--error)',
      textUnderlineOffset: '3px',
    },
    '.cm-lint-marker': { width: '0.9em', height: '0.9em' },
  },
  { dark: true },
);
