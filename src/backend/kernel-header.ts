/**
 * Renders native/kernels.gen.h from the signature table (kernels.ts): the C side of "one kernel
 * table". `npm run gen:kernels` writes it; test/backend/kernel-table.test.ts fails while the
 * committed file differs from what this renders.
 *
 * The header holds
 * - FL_KERNEL_LIST(X): X(name, return type, (parameters)) per kernel. fl.h declares each
 *   kernel's function from it (so the compiler checks every family file's definition against
 *   the table) and the fl_kernels struct; table.c fills the struct.
 * - under FL_BINDING (addon.c only): each kernel's argument descriptors and a call thunk that
 *   unpacks the checked arguments into the C call, and fl_bindings[], the list addon.c exports.
 */
import type { ArgSpec, CArg, KernelSpec } from './kernels.js';
import { KERNEL_NAMES, KERNEL_TABLE } from './kernels.js';

type Arg = ArgSpec & { index: number };

function cType(a: ArgSpec): string {
  switch (a.kind) {
    case 'f32': return a.io === 'out' ? 'float *' : 'const float *';
    case 'i32': return a.io === 'out' ? 'int32_t *' : 'const int32_t *';
    case 'u8': return a.io === 'out' ? 'uint8_t *' : 'const uint8_t *';
    case 'draw': return 'const uint32_t *';
    case 'f64': return 'const double *';
    case 'num': return a.c ?? 'float';
    case 'geom': return 'const fl_geom *';
    default: return 'int';
  }
}

function cValue(a: Arg): string {
  switch (a.kind) {
    case 'f32': return `a[${a.index}].f`;
    case 'i32': return `a[${a.index}].i32`;
    case 'u8': return `a[${a.index}].u8`;
    case 'draw': return `a[${a.index}].u32`;
    case 'f64': return `a[${a.index}].f64`;
    case 'num': return a.c === 'double' ? `a[${a.index}].d` : `(float)a[${a.index}].d`;
    case 'geom': return 'g';
    default: return `a[${a.index}].i`;
  }
}

/** The C call's parameters: [type, name, value expression]. */
function cParams(spec: KernelSpec): Array<[string, string, string]> {
  const args: Arg[] = spec.args.map((a, index) => ({ ...a, index }));
  const byName = new Map(args.map((a) => [a.name, a]));
  const list: readonly CArg[] = spec.c.args ?? spec.args.map((a) => a.name);
  return list.map((p): [string, string, string] => {
    if (p === 'len') return ['size_t', 'len', 'len'];
    if (typeof p === 'string') {
      const a = byName.get(p);
      if (!a) throw new Error(`kernel table: C argument ${p} is not an argument of ${spec.c.name}`);
      return [cType(a), a.name, cValue(a)];
    }
    // an expression over the JS arguments, in double: names become their checked values
    const expr = p.expr.replace(/\b[A-Za-z_]\w*\b/g, (word) => {
      const a = byName.get(word);
      if (!a) return word;
      if (a.kind === 'num') return `a[${a.index}].d`;
      if (a.kind === 'int') return `a[${a.index}].i`;
      throw new Error(`kernel table: ${spec.c.name} uses ${word} (a ${a.kind}) in a C expression`);
    });
    return [p.type, p.name, `(${p.type})(${expr})`];
  });
}

const KIND: Record<ArgSpec['kind'], string> = {
  f32: 'FLA_F32', i32: 'FLA_I32', u8: 'FLA_U8', f64: 'FLA_F64', draw: 'FLA_U32', int: 'FLA_INT', num: 'FLA_NUM',
  bool: 'FLA_FLAG', fused: 'FLA_FUSED', enum: 'FLA_ENUM', geom: 'FLA_GEOM',
};

const cString = (s: string): string => JSON.stringify(s);
const cNumber = (v: number): string => (v === Infinity ? 'INFINITY' : Number.isInteger(v) ? `${v}.0` : String(v));

/** One fl_arg_spec initializer. */
function argSpec(spec: KernelSpec, a: ArgSpec, i: number): string {
  const index = (name: string): number => spec.args.findIndex((b) => b.name === name);
  const lenArg = spec.args.findIndex((b) => 'size' in b && b.size === 'len');
  const f: string[] = [`.name = ${cString(a.name)}`, `.kind = ${KIND[a.kind]}`];
  if ('io' in a && a.io === 'out') f.push('.out = 1');
  if (a.kind === 'f32' && a.nullable) f.push(`.nullable = ${a.nullable === true ? 'FLN_NULL' : 'FLN_NULL_UNLESS_RELU'}`);
  if (a.kind === 'draw') f.push('.size = FLS_CONST', '.scale = 6');
  if ('size' in a) {
    const s = a.size;
    if (s === 'len') f.push(i === lenArg ? '.size = FLS_SETS_LEN' : `.size = FLS_LEN, .op = {${lenArg}, -1, -1, -1}`);
    else if (s === 'custom') f.push('.size = FLS_CUSTOM');
    else if (typeof s === 'string') f.push(`.size = FLS_${s.slice(5).toUpperCase()}`);
    else {
      const ops = s.filter((t): t is string => typeof t === 'string').map(index);
      const scale = s.filter((t): t is number => typeof t === 'number').reduce((p, t) => p * t, 1);
      if (ops.length > 4) throw new Error(`kernel table: ${a.name} of ${spec.c.name} multiplies more than 4 arguments`);
      f.push('.size = FLS_PROD', `.op = {${[...ops, -1, -1, -1, -1].slice(0, 4).join(', ')}}`, `.scale = ${scale}`);
    }
  }
  if (a.kind === 'num' && a.range) {
    f.push(`.range = ${a.range[2] === 'open' ? 'FLR_OPEN' : 'FLR_CLOSED'}`, `.lo = ${cNumber(a.range[0])}`, `.hi = ${cNumber(a.range[1])}`);
  }
  if (a.kind === 'enum') f.push(`.values = (const char *const[]){${a.values.map(cString).join(', ')}}`, `.nvalues = ${a.values.length}`);
  // relations name another argument by its index + 1 (0 = none)
  if (a.kind === 'f32' && a.neededWhen) f.push(`.needed_when = ${index(a.neededWhen.arg) + 1}`);
  if (a.kind === 'f32' && a.distinctFrom) f.push(`.distinct = ${index(a.distinctFrom) + 1}`);
  if (a.kind === 'i32' && a.classesOf) f.push(`.classes = ${index(a.classesOf) + 1}`);
  if (a.kind === 'i32' && a.indexesInto) {
    // images: the geometry's n (0), or the integer argument n
    const geom = spec.args.findIndex((b) => b.kind === 'geom');
    f.push(`.indexes = ${index(a.indexesInto) + 1}`, `.images = ${geom >= 0 ? 0 : index('n') + 1}`);
  }
  return `{${f.join(', ')}}`;
}

/** The whole header, deterministic. */
export function renderKernelHeader(): string {
  const list: string[] = [];
  const binding: string[] = [];
  const table: string[] = [];
  for (const name of KERNEL_NAMES) {
    const spec: KernelSpec = KERNEL_TABLE[name];
    const params = cParams(spec);
    const ret = spec.c.ret ?? 'void';
    const proto = ['fl_ctx *ctx', ...params.map(([t, n]) => `${t}${t.endsWith('*') ? '' : ' '}${n}`)].join(', ');
    list.push(`  X(${spec.c.name}, ${ret}, (${proto}))`);

    const fn = `fl_bind_${spec.c.name}`;
    const call = `K->${spec.c.name}(ctx${params.map(([, , v]) => `, ${v}`).join('')})`;
    binding.push(
      `/* ${name}(${spec.args.map((a) => a.name).join(', ')}) */`,
      `static const fl_arg_spec ${fn}_args[] = {`,
      ...spec.args.map((a, i) => `  ${argSpec(spec, a, i)},`),
      '};',
      `static double ${fn}(const fl_kernels *K, fl_ctx *ctx, const fl_val *a, size_t len, const fl_geom *g) {`,
      '  (void)a; (void)len; (void)g;',
      ret === 'void' ? `  ${call};\n  return 0;` : `  return (double)${call};`,
      '}',
      '',
    );
    table.push(`  {${cString(name)}, ${fn}_args, ${spec.args.length}, ${spec.returns === 'number' ? 1 : 0}, ${spec.extra ? `FLX_${spec.extra.toUpperCase()}` : 'FLX_NONE'}, ${fn}},`);
  }
  return [
    '/*',
    ' * GENERATED by `npm run gen:kernels` from src/backend/kernels.ts (the kernel signature table);',
    ' * do not edit. test/backend/kernel-table.test.ts fails while this file is stale.',
    ' */',
    '#ifndef FL_KERNELS_GEN_H',
    '#define FL_KERNELS_GEN_H',
    '',
    '/* X(name, return type, (parameters)): every kernel of the table, as its C function fl_<name>. */',
    '#define FL_KERNEL_LIST(X) \\',
    list.join(' \\\n'),
    '',
    `#define FL_KERNEL_COUNT ${KERNEL_NAMES.length}`,
    '',
    '#endif /* FL_KERNELS_GEN_H */',
    '',
    '#ifdef FL_BINDING',
    '/* addon.c: argument descriptors and call thunks, one per kernel (types in addon.c). */',
    '',
    ...binding,
    `static const fl_binding fl_bindings[FL_KERNEL_COUNT] = {`,
    ...table,
    '};',
    '#endif /* FL_BINDING */',
    '',
  ].join('\n');
}
