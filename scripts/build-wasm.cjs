#!/usr/bin/env node
/*
 * Builds the WebAssembly kernels (dist/wasm/fitlab.wasm; not under build/, which node-gyp rebuild wipes) from the same C sources as the native
 * addon: clang --target=wasm32-wasi with SIMD128, linked by lld against wasi-libc (malloc, libm),
 * no emscripten. The generic 4-lane vector path of native/simd.h becomes SIMD128.
 *
 * Run by `npm run build:wasm`, and by the install script when clang can target wasm32; without
 * clang, lld or wasi-libc it prints one warning line and exits 0 (the wasm backend is optional),
 * leaving the reason in dist/wasm/build-error.txt. `--required` makes a failure exit 1.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, 'dist', 'wasm');
const out = path.join(outDir, 'fitlab.wasm');
const errorFile = path.join(outDir, 'build-error.txt');
const required = process.argv.includes('--required');

const SOURCES = ['blas.c', 'gemm.c', 'conv.c', 'pool.c', 'norm.c', 'act.c', 'loss.c', 'optim.c', 'augment.c', 'table.c', 'ctx.c', 'wasm.c'];
// wasi-libc's sysroot: Debian's wasi-libc package, or WASI_SYSROOT
const SYSROOTS = [process.env.WASI_SYSROOT, '/usr'].filter(Boolean);

function skip(reason) {
  fs.mkdirSync(path.dirname(errorFile), { recursive: true });
  fs.writeFileSync(errorFile, `${reason}\n`);
  process.stderr.write(`fitlab: warning: the wasm kernels were not built (${reason.split('\n')[0]}); the wasm backend is unavailable\n`);
  process.exit(required ? 1 : 0);
}

const clang = process.env.CLANG ?? 'clang';
const probe = spawnSync(clang, ['--print-targets'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) skip(`${clang} was not found (apt-get install clang lld wasi-libc)`);
if (!/\bwasm32\b/.test(probe.stdout)) skip(`${clang} has no wasm32 target`);
const sysroot = SYSROOTS.find((r) => fs.existsSync(path.join(r, 'lib', 'wasm32-wasi', 'libc.a')) && fs.existsSync(path.join(r, 'include', 'wasm32-wasi', 'stdlib.h')));
if (!sysroot) skip('wasi-libc was not found (apt-get install wasi-libc, or set WASI_SYSROOT)');

const args = [
  '--target=wasm32-wasi', `--sysroot=${sysroot}`, '-isystem', path.join(sysroot, 'include', 'wasm32-wasi'),
  '-msimd128', '-O3', '-std=gnu11', '-fno-math-errno', '-fno-trapping-math',
  '-Wall', '-Wno-unused-function', '-Wno-unknown-pragmas', '-DFL_ARCH_GENERIC',
  // no start files and no compiler-rt: a library module of exported functions; a 1 MiB stack
  // (the linker's default is 64 KiB) for the kernels' on-stack tap tables
  '-nostdlib', '-Wl,--no-entry', `-Wl,-L${path.join(sysroot, 'lib', 'wasm32-wasi')}`, '-Wl,-z,stack-size=1048576',
  '-o', out, ...SOURCES.map((s) => path.join(root, 'native', s)), '-lc', '-lm',
];
fs.mkdirSync(outDir, { recursive: true });
const run = spawnSync(clang, args, { cwd: root, encoding: 'utf8' });
if (run.error || run.status !== 0) {
  const tail = `${run.stdout ?? ''}\n${run.stderr ?? ''}`.split('\n').slice(-30).join('\n');
  fs.rmSync(out, { force: true });
  skip(`clang exited with ${run.status}${run.error ? ` (${run.error.message})` : ''}:\n${tail}`);
}
fs.rmSync(errorFile, { force: true });
process.stdout.write(`fitlab: wasm kernels built (${path.relative(root, out)}, ${fs.statSync(out).size} bytes)\n`);
