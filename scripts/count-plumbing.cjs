#!/usr/bin/env node
/*
 * Counts the backend's plumbing: every line that restates or carries a kernel's signature rather
 * than computing (issue 16 §2). A line counts when it is neither blank nor only a comment.
 *
 *   node scripts/count-plumbing.cjs          a table by category and file
 *   node scripts/count-plumbing.cjs --json   the same as JSON
 *
 * Categories:
 *   interface   the Kernels interface in src/backend/backend.ts (or, once the signature table
 *               exists, the type mapping that derives it from the table)
 *   table       the declarative signature table (src/backend/kernels.ts), when present
 *   checks      src/backend/checked.ts, whole
 *   dispatch    src/backend/native/index.ts and src/backend/reference/index.ts, whole
 *   binding     native/addon.c, whole (N-API, including the control calls), native/binding.h
 *               (its types) and native/wasm.c (the WebAssembly entry)
 *   c-table     native/table.c, whole, and the fl_kernels struct in native/fl.h
 *   headers     each kernel's own function header in the family .c files and the reference
 *               twins (the lines from `FL_FN(`/`export function` to the opening brace)
 *   generated   files written by a generator (native/*.gen.h), reported apart, not in the total
 *   generator   what writes them (scripts/gen-kernel-header.cjs, src/backend/kernel-header.ts)
 * Compute (for scale): the family .c files minus their headers.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const read = (rel) => (fs.existsSync(path.join(root, rel)) ? fs.readFileSync(path.join(root, rel), 'utf8') : null);

/** Lines that are code: not blank, not only a comment (C or TS; block comments tracked). */
function codeLines(text) {
  let inBlock = false;
  let n = 0;
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (inBlock) {
      const end = line.indexOf('*/');
      if (end < 0) continue;
      inBlock = false;
      line = line.slice(end + 2).trim();
    }
    while (line.startsWith('/*')) {
      const end = line.indexOf('*/', 2);
      if (end < 0) {
        inBlock = true;
        line = '';
        break;
      }
      line = line.slice(end + 2).trim();
    }
    if (line === '' || line.startsWith('//')) continue;
    n++;
  }
  return n;
}

/** The text from the line matching `start` through the line where braces first balance. */
function block(text, start) {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => start.test(l));
  if (i < 0) return '';
  let depth = 0;
  let seen = false;
  for (let j = i; j < lines.length; j++) {
    for (const ch of lines[j]) {
      if (ch === '{') { depth++; seen = true; }
      if (ch === '}') depth--;
    }
    if (seen && depth === 0) return lines.slice(i, j + 1).join('\n');
  }
  return lines.slice(i).join('\n');
}

/** A statement: from the line matching `start` to the first line ending in ';' at brace depth 0. */
function statement(text, start) {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => start.test(l));
  if (i < 0) return '';
  let depth = 0;
  for (let j = i; j < lines.length; j++) {
    for (const ch of lines[j]) {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
    }
    if (depth === 0 && lines[j].trimEnd().endsWith(';')) return lines.slice(i, j + 1).join('\n');
  }
  return lines.slice(i).join('\n');
}

/** Function headers: from a line matching `start` to the first line containing '{' (inclusive). */
function headers(text, start) {
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    if (!start.test(lines[i])) continue;
    let j = i;
    while (j < lines.length && !lines[j].includes('{')) j++;
    out.push(...lines.slice(i, j + 1));
    i = j;
  }
  return out.join('\n');
}

const rows = [];
const add = (category, file, text) => {
  if (text !== null && text !== '') rows.push({ category, file, lines: codeLines(text) });
};

const backend = read('src/backend/backend.ts');
if (backend) {
  // before: the hand-written interface; after: the type mapping that derives it from the table
  const parts = [block(backend, /^export interface Kernels\b/), statement(backend, /^type ArgType</),
    statement(backend, /^type ArgTypes</), statement(backend, /^export type Kernels\b/)];
  add('interface', 'src/backend/backend.ts (Kernels)', parts.filter(Boolean).join('\n'));
}
const table = read('src/backend/kernels.ts');
if (table) add('table', 'src/backend/kernels.ts', table);
add('checks', 'src/backend/checked.ts', read('src/backend/checked.ts'));
add('dispatch', 'src/backend/native/index.ts', read('src/backend/native/index.ts'));
add('dispatch', 'src/backend/reference/index.ts', read('src/backend/reference/index.ts'));
add('binding', 'native/addon.c', read('native/addon.c'));
add('binding', 'native/binding.h', read('native/binding.h'));
add('binding', 'native/wasm.c', read('native/wasm.c'));
add('c-table', 'native/table.c', read('native/table.c'));
const fl = read('native/fl.h');
if (fl) add('c-table', 'native/fl.h (fl_kernels)', block(fl, /^typedef struct fl_kernels\b/));

const C_HEADER = /^(void|double|int|float)\s+FL_FN(_CONV_FWD|_CONV_BWD)?\b|^(void|double|int|float)\s+FL_FN\(fl_/;
let compute = 0;
for (const f of fs.readdirSync(path.join(root, 'native')).sort()) {
  if (!f.endsWith('.c') || ['addon.c', 'wasm.c', 'table.c', 'threadpool.c', 'ctx.c'].includes(f)) continue;
  const text = read(`native/${f}`);
  const h = headers(text, C_HEADER);
  add('headers', `native/${f}`, h);
  compute += codeLines(text) - codeLines(h);
}
for (const f of fs.readdirSync(path.join(root, 'src/backend/reference')).sort()) {
  if (!f.endsWith('.ts') || f === 'index.ts') continue;
  add('headers', `src/backend/reference/${f}`, headers(read(`src/backend/reference/${f}`), /^export function /));
}
for (const f of fs.readdirSync(path.join(root, 'native')).sort()) {
  if (f.endsWith('.gen.h')) add('generated', `native/${f}`, read(`native/${f}`));
}
for (const f of fs.readdirSync(path.join(root, 'scripts')).sort()) {
  if (/^gen-kernel/.test(f)) add('generator', `scripts/${f}`, read(`scripts/${f}`));
}
add('generator', 'src/backend/kernel-header.ts', read('src/backend/kernel-header.ts'));

const byCategory = {};
for (const r of rows) byCategory[r.category] = (byCategory[r.category] ?? 0) + r.lines;
const total = rows.filter((r) => r.category !== 'generated').reduce((s, r) => s + r.lines, 0);

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ total, byCategory, compute, rows }, null, 1)}\n`);
} else {
  for (const r of rows) process.stdout.write(`${r.category.padEnd(10)} ${String(r.lines).padStart(5)}  ${r.file}\n`);
  process.stdout.write(`\n${Object.entries(byCategory).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
  process.stdout.write(`plumbing (hand-written, generated files excluded): ${total} lines; C compute for scale: ${compute} lines\n`);
}
