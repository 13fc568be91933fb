// esbuild bundles the stylesheets main.ts imports into app.css.
declare module '*.css';
