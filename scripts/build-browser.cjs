// Bundle fitlab's library for a browser (src/browser.ts → dist/browser/fitlab.js) with esbuild,
// platform 'browser', Node built-ins NOT marked external: a module that still imports one fails
// the build. Where a module needs the host, a twin `<name>.browser.ts` beside `<name>.ts` takes
// its place in the bundle (the way a package's "browser" field maps files). Copies
// dist/wasm/fitlab.wasm beside the bundle when it was built. Writes the metafile too.
const { build } = require('esbuild');
const { copyFileSync, existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
const src = join(root, 'src');

/** Resolve `./x.js` imported from src/ to `./x.browser.ts` where that twin exists. */
const browserTwins = {
  name: 'fitlab-browser-twins',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (!args.importer.startsWith(src)) return undefined;
      const twin = `${resolve(args.resolveDir, args.path).replace(/\.js$/, '')}.browser.ts`;
      if (twin === args.importer || !existsSync(twin)) return undefined;
      return { path: twin };
    });
  },
};

/**
 * Bundle `entry` (default src/browser.ts) into `out`/fitlab.js; rejects with esbuild's errors.
 * `extra` adds esbuild options (the tests alias 'vitest' to bundle the kernel suite for a page).
 */
async function buildBrowser(out = join(root, 'dist', 'browser'), entry = join(src, 'browser.ts'), extra = {}) {
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: false,
    sourcemap: false,
    outfile: join(out, 'fitlab.js'),
    metafile: true,
    absWorkingDir: root,
    plugins: [browserTwins],
    logLevel: 'silent',
    ...extra,
  });
  writeFileSync(join(out, 'meta.json'), JSON.stringify(result.metafile));
  const wasm = join(root, 'dist', 'wasm', 'fitlab.wasm');
  if (existsSync(wasm)) copyFileSync(wasm, join(out, 'fitlab.wasm'));
  return { out, metafile: result.metafile };
}

module.exports = { buildBrowser, browserTwins };

if (require.main === module) {
  buildBrowser(process.argv[2]).then(
    ({ out }) => console.log(`library bundled for the browser into ${out}`),
    (err) => {
      const errors = err && Array.isArray(err.errors) ? err.errors : [];
      if (errors.length === 0) console.error(err);
      for (const e of errors) {
        const at = e.location ? `${e.location.file}:${e.location.line}: ` : '';
        console.error(`fitlab: browser bundle: ${at}${e.text}`);
      }
      process.exit(1);
    },
  );
}
