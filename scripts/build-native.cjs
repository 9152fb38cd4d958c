#!/usr/bin/env node
/*
 * Builds the native kernels (node-gyp, no download: node's own headers) during `npm install`.
 * A failed build never fails the install: fitlab then runs on the TypeScript reference backend
 * with one warning, and build/native-build-error.txt says why (FITLAB_BACKEND=native reports it).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const errorFile = path.join(root, 'build', 'native-build-error.txt');

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a package: rely on npm's bundled copy
  }
  return candidates.find((p) => p && fs.existsSync(p));
}

function recordFailure(reason) {
  fs.mkdirSync(path.dirname(errorFile), { recursive: true });
  fs.writeFileSync(errorFile, reason);
  process.stderr.write(
    `fitlab: the native kernels did not build; fitlab will use the (much slower) TypeScript reference backend.\n` +
      `fitlab: reason saved in ${path.relative(process.cwd(), errorFile) || errorFile}\n`,
  );
}

if (process.env.FITLAB_SKIP_NATIVE === '1') {
  recordFailure('FITLAB_SKIP_NATIVE=1 was set during npm install');
  process.exit(0);
}

const gyp = findNodeGyp();
if (!gyp) {
  recordFailure('node-gyp was not found (npm normally bundles it); install build tools and run `npm run build:native`.');
  process.exit(0);
}
// Build against the headers of the node that runs us when they are installed beside it (Debian,
// nvm, official tarballs all ship include/node): node-gyp then downloads nothing.
const args = [gyp, 'rebuild'];
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: process.env });
if (run.status !== 0) {
  const tail = `${run.stdout ?? ''}\n${run.stderr ?? ''}`.split('\n').slice(-40).join('\n');
  recordFailure(`node-gyp rebuild exited with ${run.status}${run.error ? ` (${run.error.message})` : ''}:\n${tail}`);
  process.exit(0);
}
fs.rmSync(errorFile, { force: true });
process.stdout.write('fitlab: native kernels built (build/Release/fitlab.node)\n');
