// Icons: 16×16 strokes drawn with currentColor.
import { s } from './dom';

const paths: Record<string, string> = {
  play: 'M5 3.5v9l7.5-4.5z',
  stop: 'M4.5 4.5h7v7h-7z',
  restart: 'M12.5 8a4.5 4.5 0 1 1-1.4-3.3M12.5 2.5v3h-3',
  save: 'M3 3h8l2 2v8H3zM5.5 3v3h4V3M5.5 13V9.5h5V13',
  commit: 'M8 1.5v4M8 10.5v4M8 5.5a2.5 2.5 0 1 0 0 5a2.5 2.5 0 1 0 0-5',
  plus: 'M8 3v10M3 8h10',
  file: 'M4 1.5h5l3 3v10H4zM9 1.5v3h3',
  folder: 'M1.5 3.5h5l1.5 1.5h6.5v8h-13z',
  flag: 'M4 14.5V2M4 2.5h8l-2 3 2 3H4',
  trash: 'M2.5 4h11M6 4V2.5h4V4M4 4l.7 9.5h6.6L12 4M6.5 6.5v5M9.5 6.5v5',
  edit: 'M2.5 13.5l.7-3L10.5 3.2l2.3 2.3-7.3 7.3zM9.3 4.4l2.3 2.3',
  derive: 'M4.5 2v12M4.5 9c0-3 7-2 7-5.5M11.5 2v1.5',
  book: 'M2 3c2-1 4-1 6 .5v10C6 12 4 12 2 13zM14 3c-2-1-4-1-6 .5v10c2-1.5 4-1.5 6-.5z',
  diagram: 'M2 2.5h5v3H2zM9 10.5h5v3H9zM4.5 5.5v6.5H9',
  chart: 'M2 13.5h12M3.5 11l3-4 2.5 2 4-5.5',
  list: 'M2 4h12M2 8h12M2 12h8',
  close: 'M4 4l8 8M12 4l-8 8',
  chevron: 'M6 4l4 4-4 4',
  restore: 'M3 8a5 5 0 1 0 1.5-3.5M3 2.5v3h3',
  menu: 'M2 4h12M2 8h12M2 12h12',
  clear: 'M3 3l10 10M2 8a6 6 0 0 0 12 0a6 6 0 0 0-12 0',
  down: 'M8 3v10M4 9l4 4 4-4',
  codebases: 'M2 3.5h12v3H2zM2 9.5h12v3H2z',
  up: 'M8 13V3M4 7l4-4 4 4',
  left: 'M10 4L6 8l4 4',
  right: 'M6 4l4 4-4 4',
  logo: 'M2 4.5c2-1.6 4 1.6 6 0s4-1.6 6 0M2 8c2-1.6 4 1.6 6 0s4-1.6 6 0M2 11.5c2-1.6 4 1.6 6 0s4-1.6 6 0',
  expand: 'M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4',
};

/** icon returns an inline SVG icon; it is hidden from assistive technology. */
export function icon(name: keyof typeof paths | string, cls = ''): SVGSVGElement {
  const filled = name === 'play' || name === 'stop';
  return s(
    'svg',
    { class: `icon ${cls}`, viewBox: '0 0 16 16', width: 16, height: 16, 'aria-hidden': 'true', focusable: 'false' },
    s('path', {
      d: paths[name] ?? paths.file,
      fill: filled ? 'currentColor' : 'none',
      stroke: 'currentColor',
      'stroke-width': 1.4,
      'stroke-linecap': 'round',
      'stroke-linejoin': 'round',
    }),
  );
}
