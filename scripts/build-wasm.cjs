#!/usr/bin/env node
/*
 * Builds the WebAssembly kernels (dist/wasm/; not under build/, which node-gyp rebuild wipes) from the same C sources as the native
 * addon: clang --target=wasm32-wasi with SIMD128, linked by lld against wasi-libc (malloc, libm),
 * no emscripten. The generic 4-lane vector path of native/simd.h becomes SIMD128. Two modules:
 *   - fitlab.wasm, single-threaded; its memory is imported (env.memory) so that
 *     src/backend/wasm/core.ts can make it with a fixed size, whose views never detach;
 *   - fitlab-threads.wasm (native/wasm.c with FL_WASM_THREADS): atomics and bulk memory, a
 *     shared memory imported from the host (env.memory, THREADS_MEMORY pages, which
 *     src/backend/wasm/threads.ts creates), run by several instances at once. Debian's
 *     wasi-libc is built without atomics, so the link skips lld's feature check
 *     (--no-check-features); that is sound because only the calling thread enters libc, except
 *     the allocator, whose entry points are wrapped (--wrap) by locking versions in wasm.c.
 *
 * Run by `npm run build:wasm`, and by the install script when clang can target wasm32; without
 * clang, lld or wasi-libc it prints one warning line and exits 0 (the wasm backend is optional),
 * leaving the reason in dist/wasm/build-error.txt. `--required` (or FITLAB_REQUIRE_WASM=1) makes a failure exit 1.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, 'dist', 'wasm');
const out = path.join(outDir, 'fitlab.wasm');
const outThreads = path.join(outDir, 'fitlab-threads.wasm');
// the threaded module's shared memory, in bytes: src/backend/wasm/threads.ts creates it with the
// same limits (2 GiB at most, so every pointer is a positive int32 in JS)
const THREADS_MEMORY = { initial: 16 * 1024 * 1024, maximum: 2 * 1024 * 1024 * 1024 };
const errorFile = path.join(outDir, 'build-error.txt');
const required = process.argv.includes('--required') || process.env.FITLAB_REQUIRE_WASM === '1';

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
];
const threadArgs = [
  '-matomics', '-mbulk-memory', '-DFL_WASM_THREADS',
  '-Wl,--import-memory', '-Wl,--shared-memory', `-Wl,--initial-memory=${THREADS_MEMORY.initial}`, `-Wl,--max-memory=${THREADS_MEMORY.maximum}`,
  '-Wl,--no-check-features',
  ...['malloc', 'free', 'calloc', 'realloc', 'posix_memalign', 'aligned_alloc'].map((f) => `-Wl,--wrap=${f}`),
];
const inputs = [...SOURCES.map((s) => path.join(root, 'native', s)), '-lc', '-lm'];
fs.mkdirSync(outDir, { recursive: true });

/** Link one module; on failure remove both (a half-built pair is worse than none) and skip. */
function build(file, extra) {
  const run = spawnSync(clang, [...args, ...extra, '-o', file, ...inputs], { cwd: root, encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    const tail = `${run.stdout ?? ''}\n${run.stderr ?? ''}`.split('\n').slice(-30).join('\n');
    for (const f of [out, outThreads]) fs.rmSync(f, { force: true });
    skip(`clang exited with ${run.status} building ${path.basename(file)}${run.error ? ` (${run.error.message})` : ''}:\n${tail}`);
  }
}
build(out, ['-Wl,--import-memory']);
build(outThreads, threadArgs);
fs.rmSync(errorFile, { force: true });
const size = (f) => `${path.relative(root, f)}, ${fs.statSync(f).size} bytes`;
process.stdout.write(`fitlab: wasm kernels built (${size(out)}; ${size(outThreads)})\n`);
