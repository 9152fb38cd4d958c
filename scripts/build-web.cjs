// Bundle the dashboard page (web/) into dist/web/: app.js (esbuild, with uPlot inside),
// index.html, style.css and uPlot's stylesheet. Nothing is fetched at run time: the page works offline.
const { build } = require('esbuild');
const { copyFileSync, mkdirSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');

async function buildWeb(out = join(root, 'dist', 'web')) {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(root, 'web', 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    outfile: join(out, 'app.js'),
    logLevel: 'warning',
  });
  copyFileSync(join(dirname(require.resolve('uplot')), 'uPlot.min.css'), join(out, 'uPlot.min.css'));
  copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'));
  copyFileSync(join(root, 'web', 'style.css'), join(out, 'style.css'));
  return out;
}

module.exports = { buildWeb };

if (require.main === module) {
  buildWeb(process.argv[2]).then(
    (out) => console.log(`dashboard page bundled into ${out}`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
