// Bundle the static site that `fitlab site` writes (issue 21) into dist/site/: the dashboard page
// driven by an in-page session (web/src/site/main.ts → app.js), its training Web Worker
// (src/site/worker.ts → worker.js, the library bundled as scripts/build-browser.cjs bundles it:
// platform 'browser', `.browser.ts` twins, no Node built-in), index.html, the stylesheets and
// dist/wasm/fitlab.wasm (and fitlab-threads.wasm when it was built). Nothing is fetched from elsewhere at run time: the site works offline.
//
// The worker's bundle fails to build when anything it reaches imports a Node built-in (none is
// marked external): the run contract's table (src/io/run-config.ts) reads no file, its
// config.json reader lives in src/io/run-config-file.ts, which the worker never reaches.
const { build } = require('esbuild');
const { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { browserTwins } = require('./build-browser.cjs');

const root = join(__dirname, '..');

/** The page's index.html: the dashboard's, with relative asset paths and the site's stylesheet. */
function indexHtml() {
  const html = readFileSync(join(root, 'web', 'index.html'), 'utf8');
  if (!html.includes('/assets/app.js')) throw new Error('web/index.html no longer loads /assets/app.js: update scripts/build-site.cjs');
  return html
    .replace(/\/assets\//g, './')
    .replace('<title>fitlab dashboard</title>', '<title>fitlab in the browser</title>')
    .replace('<link rel="stylesheet" href="./style.css">', '<link rel="stylesheet" href="./style.css">\n<link rel="stylesheet" href="./site.css">');
}

/**
 * Bundle the site into `final` (default dist/site). Built in a sibling temporary folder that
 * then takes its place, so a `fitlab site` copying dist/site (a test running beside another
 * that rebuilds it) never sees half a bundle.
 */
async function buildSite(final = join(root, 'dist', 'site')) {
  const out = `${final}.tmp-${process.pid}-${Date.now()}`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  try {
    await fill(out);
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    throw err;
  }
  const old = `${final}.old-${process.pid}-${Date.now()}`;
  try {
    renameSync(final, old);
  } catch {
    // no bundle yet (or another build is swapping its own in right now)
  }
  try {
    renameSync(out, final);
  } catch (err) {
    // another build put its bundle (the same sources, the same files) in place first: keep it
    if (!existsSync(join(final, 'index.html'))) throw err;
    rmSync(out, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return final;
}

async function fill(out) {
  const common = { bundle: true, format: 'esm', target: 'es2022', minify: true, sourcemap: false, logLevel: 'warning', absWorkingDir: root };
  await build({ ...common, entryPoints: [join(root, 'web', 'src', 'site', 'main.ts')], outfile: join(out, 'app.js') });
  await build({ ...common, entryPoints: [join(root, 'src', 'site', 'worker.ts')], platform: 'browser', outfile: join(out, 'worker.js'), plugins: [browserTwins] });
  const wasm = join(root, 'dist', 'wasm', 'fitlab.wasm');
  if (!existsSync(wasm)) throw new Error(`${wasm} is missing: run \`node scripts/build-wasm.cjs\` first (the site trains on it)`);
  copyFileSync(wasm, join(out, 'fitlab.wasm'));
  // the threaded kernels, used when the host sends COOP/COEP (the page is cross-origin isolated)
  const threads = join(root, 'dist', 'wasm', 'fitlab-threads.wasm');
  if (existsSync(threads)) copyFileSync(threads, join(out, 'fitlab-threads.wasm'));
  copyFileSync(join(dirname(require.resolve('uplot')), 'uPlot.min.css'), join(out, 'uPlot.min.css'));
  copyFileSync(join(root, 'web', 'style.css'), join(out, 'style.css'));
  copyFileSync(join(root, 'web', 'src', 'site', 'site.css'), join(out, 'site.css'));
  writeFileSync(join(out, 'index.html'), indexHtml());
}

module.exports = { buildSite };

if (require.main === module) {
  if (!existsSync(join(root, 'dist', 'wasm', 'fitlab.wasm'))) {
    // `npm run build` on a machine without clang for wasm32: everything else still builds
    console.warn('fitlab: static site not bundled: dist/wasm/fitlab.wasm is missing (node scripts/build-wasm.cjs needs clang and lld); `fitlab site` will say so');
    process.exit(0);
  }
  buildSite(process.argv[2]).then(
    (out) => console.log(`static site bundled into ${out}`),
    (err) => {
      const errors = err && Array.isArray(err.errors) ? err.errors : [];
      if (errors.length === 0) console.error(err);
      for (const e of errors) console.error(`fitlab: site bundle: ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
      process.exit(1);
    },
  );
}
