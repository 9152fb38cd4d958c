#!/usr/bin/env node
/*
 * Writes native/kernels.gen.h from the kernel signature table (src/backend/kernels.ts), through
 * src/backend/kernel-header.ts. Run it (`npm run gen:kernels`) after changing the table, then
 * `npm run build:native`. Development only (it loads TypeScript with tsx, a devDependency); an
 * install builds from the committed header.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.resolve(__dirname, '..');
const target = path.join(root, 'native', 'kernels.gen.h');

async function main() {
  const { tsImport } = await import('tsx/esm/api');
  const url = pathToFileURL(path.join(root, 'src', 'backend', 'kernel-header.ts')).href;
  const { renderKernelHeader } = await tsImport(url, pathToFileURL(path.join(__dirname, '/')).href);
  const text = renderKernelHeader();
  const old = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
  if (old === text) {
    process.stdout.write('native/kernels.gen.h is up to date\n');
    return;
  }
  fs.writeFileSync(target, text);
  process.stdout.write('wrote native/kernels.gen.h\n');
}

main().catch((err) => {
  process.stderr.write(`gen-kernel-header: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
