/**
 * A vitest reporter that ends the run with one line saying why tests were skipped.
 *
 * Vitest's summary says only "7 skipped"; the reason lives in each skipped test's (or its
 * suite's) name, by this project's convention "… — skipped: <reason>" or "… (skipped: <reason>)".
 * This reporter collects the skipped tests, takes the innermost reason found in the test's name
 * or its suites' names, and prints e.g.
 * `skipped 7: 4 × MNIST not found (set FITLAB_TEST_DATA); 3 × no reason in the name (test/x.test.ts)`.
 */
import { relative } from 'node:path';
import type { Reporter, TestModule, TestSuite, Vitest } from 'vitest/node';

/** One skipped test: its name, then its suites' names innermost first, and its file. */
export interface SkippedTest {
  names: readonly string[];
  file: string;
  /** left out by a name filter (vitest -t), not skipped by the test itself */
  filtered?: boolean;
}

/** The reason a name carries after "skipped:" or "trivial:", without the wrapping parenthesis. */
export function reasonIn(name: string): string | undefined {
  const m = /(?:\(|—\s*|-\s+)(skipped|trivial):\s*(.+)$/s.exec(name);
  if (!m) return undefined;
  let reason = m[2].trim();
  // "(skipped: x (detail))": drop only the parenthesis that opened before "skipped:"
  if (m[0].startsWith('(') && reason.endsWith(')')) reason = reason.slice(0, -1).trim();
  return m[1] === 'trivial' ? `trivial: ${reason}` : reason;
}

/** The one summary line, or undefined when nothing was skipped. */
export function skipSummary(skipped: readonly SkippedTest[]): string | undefined {
  if (skipped.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const t of skipped) {
    if (t.filtered) {
      counts.set('not selected by -t', (counts.get('not selected by -t') ?? 0) + 1);
      continue;
    }
    let reason: string | undefined;
    for (const n of t.names) {
      reason = reasonIn(n);
      if (reason) break;
    }
    const key = reason ?? `no reason in the name (${t.file})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${n} × ${r}`);
  return `skipped ${skipped.length}: ${parts.join('; ')}`;
}

export default class SkipReasons implements Reporter {
  private root = process.cwd();
  private pattern: RegExp | undefined;
  private log: (line: string) => void = (line) => console.log(line);

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
    this.pattern = vitest.config.testNamePattern;
    this.log = (line) => vitest.logger.log(line);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped: SkippedTest[] = [];
    for (const mod of modules) {
      for (const test of mod.children.allTests('skipped')) {
        const names = [test.name];
        for (let p: TestSuite | TestModule = test.parent; p.type === 'suite'; p = p.parent) names.push(p.name);
        const filtered = this.pattern !== undefined && !this.pattern.test(test.fullName);
        skipped.push({ names, file: relative(this.root, mod.moduleId), filtered });
      }
    }
    const line = skipSummary(skipped);
    if (line) this.log(line);
  }
}
