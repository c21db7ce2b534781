import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** One file the dashboard serves, read once. */
export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * Where the dashboard's own files are: `src/ui/static` of the installed package, served as they
 * are (plain browser JavaScript and CSS, no build step; `tsc` does not copy them, so they are read
 * from the source tree, which ships in the package).
 */
export const STATIC_DIR = fileURLToPath(new URL('../../../src/ui/static/', import.meta.url));

const require = createRequire(import.meta.url);

/** uPlot's files, resolved where npm installed the dependency (no CDN: the page works offline). */
export const UPLOT_FILES = {
  js: require.resolve('uplot/dist/uPlot.iife.min.js'),
  css: require.resolve('uplot/dist/uPlot.min.css'),
} as const;

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** The names under `/_flotilla/ui/static/` and the file behind each (nothing else is served). */
const FILES: Readonly<Record<string, { readonly path: string; readonly contentType: string }>> = {
  'dashboard.js': { path: `${STATIC_DIR}dashboard.js`, contentType: JS },
  'dashboard.css': { path: `${STATIC_DIR}dashboard.css`, contentType: CSS },
  'charts.js': { path: `${STATIC_DIR}charts.js`, contentType: JS },
  'uplot.js': { path: UPLOT_FILES.js, contentType: JS },
  'uplot.css': { path: UPLOT_FILES.css, contentType: CSS },
};

/** The dashboard page (sign-in form and the empty views the script fills). */
export const PAGE_FILE = `${STATIC_DIR}dashboard.html`;

const cache = new Map<string, Asset>();

/** A static asset by its name; undefined for any name not in the list. */
export function staticAsset(name: string): Asset | undefined {
  const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
  if (!file) return undefined;
  let asset = cache.get(name);
  if (!asset) {
    asset = { contentType: file.contentType, body: readFileSync(file.path) };
    cache.set(name, asset);
  }
  return asset;
}

/** The page itself. */
export function pageAsset(): Asset {
  let asset = cache.get('');
  if (!asset) {
    asset = { contentType: 'text/html; charset=utf-8', body: readFileSync(PAGE_FILE) };
    cache.set('', asset);
  }
  return asset;
}

/** A text file of the dashboard (the bench report inlines the same chart code and uPlot). */
export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
