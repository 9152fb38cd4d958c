// The floors of /work/shared/ARCHITECTURE.md ("Floors"), checked by dependency-cruiser in
// `npm test` (`npm run lint:deps`). A module imports only from its own folder and from floors
// below it: never upward, never sideways into another folder of its own floor, never in a cycle.
// web/ (the dashboard page, bundled for the browser) imports only src/serve/protocol.ts.
//
// A new folder under src/ must be placed on a floor here, or the `unplaced` rule fails: a
// module that belongs nowhere is a decision to make, not a default.

/** Bottom to top; each entry is one floor, each floor one or more folders (or files) of src/. */
const FLOORS = [
  ['errors', 'util', 'tensor'],
  ['backend'],
  ['data', 'optim'],
  ['nn'],
  ['train'],
  ['io', 'bench'],
  ['diagnose'],
  ['run'],
  ['experiments', 'serve', 'queue'],
  ['cli', 'index', 'browser', 'site'],
];

// Floor 1 is one floor of small leaves: errors, util and tensor may use one another (no cycles).
const OPEN_FLOORS = new Set([0]);

/** `src/<name>/…` or the file `src/<name>.ts`. */
const place = (name) => `^src/${name}(/|\\.ts$)`;
const anyOf = (names) => `(${names.map(place).join('|')})`;

const floorRules = FLOORS.flatMap((names, i) => {
  const above = FLOORS.slice(i + 1).flat();
  const rules = [];
  if (above.length > 0) {
    rules.push({
      name: `floor-${i + 1}-imports-upward`,
      comment: `${names.join(', ')} (floor ${i + 1}) may import only from floors 1–${i + 1}; not from ${above.join(', ')}`,
      severity: 'error',
      from: { path: anyOf(names) },
      to: { path: anyOf(above) },
    });
  }
  if (names.length > 1 && !OPEN_FLOORS.has(i)) {
    for (const name of names) {
      const siblings = names.filter((other) => other !== name);
      rules.push({
        name: `floor-${i + 1}-${name}-imports-sideways`,
        comment: `${name} (floor ${i + 1}) may not import its floor-mates ${siblings.join(', ')}`,
        severity: 'error',
        from: { path: place(name) },
        to: { path: anyOf(siblings) },
      });
    }
  }
  return rules;
});

module.exports = {
  forbidden: [
    ...floorRules,
    {
      name: 'no-circular',
      comment: 'modules form no cycle, not even inside one folder',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'web-imports-only-protocol',
      comment: 'the page imports from src/ only the types and pure folds of src/serve/protocol.ts',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/', pathNot: '^src/serve/protocol\\.ts$' },
    },
    {
      name: 'protocol-imports-only-types',
      comment: 'src/serve/protocol.ts is bundled into the page: it may import types, never code from src/',
      severity: 'error',
      from: { path: '^src/serve/protocol\\.ts$' },
      to: { path: '^src/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'nothing-imports-web',
      comment: 'web/ is the top floor: nothing in src/ imports it',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^web/' },
    },
    {
      name: 'unplaced',
      comment: 'every module under src/ lives on a floor of .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: anyOf(FLOORS.flat()) },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing is a typo or a missing dependency',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|build|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json', '.node'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
