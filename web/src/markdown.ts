// A small Markdown renderer for the tutorials' texts: headings, paragraphs,
// lists, block quotes, rules, fenced code (highlighted for JS, TS and JSON)
// and inline code, emphasis and links. Everything is built as DOM nodes, so
// nothing in the text is ever parsed as HTML.
import { javascriptLanguage, typescriptLanguage } from '@codemirror/lang-javascript';
import { jsonLanguage } from '@codemirror/lang-json';
import { highlightCode } from '@lezer/highlight';
import { h, type Child } from './dom';
import { highlightStyle } from './theme';

function inline(text: string): Child[] {
  const out: Child[] = [];
  // code spans, links, strong, emphasis
  const re = /(`+)([\s\S]*?)\1|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|(?<![\w])_([^_\s][^_]*)_(?![\w])/g;
  let last = 0;
  for (let m; (m = re.exec(text)); ) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) out.push(h('code', null, m[2].trim()));
    else if (m[3]) {
      const href = m[4];
      const safe = /^(https?:|#|\/)/.test(href) || !/^[a-z]+:/i.test(href);
      out.push(
        safe
          ? h('a', { href, target: /^https?:/.test(href) ? '_blank' : undefined, rel: 'noopener' }, ...inline(m[3]))
          : m[3],
      );
    } else if (m[5] || m[6]) out.push(h('strong', null, ...inline(m[5] || m[6])));
    else if (m[7] || m[8]) out.push(h('em', null, ...inline(m[7] || m[8])));
    last = re.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const parsers: Record<string, typeof javascriptLanguage.parser> = {
  js: javascriptLanguage.parser,
  javascript: javascriptLanguage.parser,
  ts: typescriptLanguage.parser,
  typescript: typescriptLanguage.parser,
  json: jsonLanguage.parser,
};

function codeBlock(lang: string, code: string) {
  const el = h('code', { class: lang ? `lang-${lang}` : '' });
  const parser = parsers[lang];
  if (parser) {
    highlightCode(
      code,
      parser.parse(code),
      highlightStyle,
      (text, classes) => el.append(classes ? h('span', { class: classes }, text) : text),
      () => el.append('\n'),
    );
  } else if (lang === 'console' || lang === 'sh') {
    for (const line of code.split('\n')) {
      const cmd = /^\$ /.test(line) || lang === 'sh';
      el.append(cmd ? h('span', { class: 'md-cmd' }, line) : line, '\n');
    }
    el.lastChild?.remove();
  } else el.textContent = code;
  return h('pre', { class: 'md-code' }, el);
}

/** renderMarkdown turns a text into a fragment of DOM nodes. */
export function renderMarkdown(src: string): DocumentFragment {
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const frag = document.createDocumentFragment();
  let i = 0;
  const para: string[] = [];
  const flush = () => {
    if (para.length) frag.append(h('p', null, ...inline(para.join(' '))));
    para.length = 0;
  };
  while (i < lines.length) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if ((m = /^(\s*)(```+|~~~+)\s*([\w-]*)/.exec(line))) {
      flush();
      const fence = m[2];
      const code: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence)) code.push(lines[i++]);
      i++;
      frag.append(codeBlock(m[3].toLowerCase(), code.join('\n')));
      continue;
    }
    if ((m = /^(#{1,6})\s+(.*?)\s*#*$/.exec(line))) {
      flush();
      const level = Math.min(m[1].length + 1, 6); // the page has its h1
      frag.append(h(`h${level}` as 'h2', null, ...inline(m[2])));
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      frag.append(h('hr'));
      i++;
      continue;
    }
    if (/^\s*>/.test(line)) {
      flush();
      const quote: string[] = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) quote.push(lines[i++].replace(/^\s*>\s?/, ''));
      const bq = h('blockquote');
      bq.append(renderMarkdown(quote.join('\n')));
      frag.append(bq);
      continue;
    }
    if ((m = /^(\s*)([-*+]|\d+[.)])\s+/.exec(line))) {
      flush();
      const ordered = /\d/.test(m[2]);
      const list = h(ordered ? 'ol' : 'ul');
      const indent = m[1].length;
      while (i < lines.length) {
        const lm = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(lines[i]);
        if (!lm || lm[1].length < indent) break;
        const item: string[] = [lm[3]];
        i++;
        // continuation lines and nested content, indented
        while (i < lines.length && lines[i].trim() && !/^\s*([-*+]|\d+[.)])\s+/.test(lines[i]) && /^\s+/.test(lines[i])) {
          item.push(lines[i++].trim());
        }
        list.append(h('li', null, ...inline(item.join(' '))));
        if (i < lines.length && !lines[i].trim() && /^(\s*)([-*+]|\d+[.)])\s+/.test(lines[i + 1] ?? '')) i++;
      }
      frag.append(list);
      continue;
    }
    if (!line.trim()) {
      flush();
      i++;
      continue;
    }
    para.push(line.trim());
    i++;
  }
  flush();
  return frag;
}
