/**
 * The part of vitest's API the kernel conformance suite uses (describe, it, expect, with .skip),
 * for running that suite inside a browser page: test/browser/wasm-chromium.test.ts bundles
 * test/browser/page/suite-entry.ts with esbuild, aliasing 'vitest' to this file. `expect` is
 * vitest's own (@vitest/expect: chai with the Jest-style matchers, the package vitest itself
 * runs on); describe and it only collect the tests, which suite-entry.ts then runs in order.
 */
import { JestAsymmetricMatchers, JestChaiExpect, JestExtend, chai } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

export interface CollectedTest {
  /** the describe titles and the test's, joined by ' > ' */
  name: string;
  fn: () => unknown;
  /** the title of the skipped block or test that skips it, or null */
  skipped: string | null;
}

export const collected: CollectedTest[] = [];
const titles: string[] = [];
let skippedBy: string | null = null;

type Body = () => void;

function describeImpl(title: string, body: Body): void {
  titles.push(title);
  try {
    body();
  } finally {
    titles.pop();
  }
}

export const describe = Object.assign(describeImpl, {
  skip(title: string, body: Body): void {
    const outer = skippedBy;
    skippedBy ??= title;
    try {
      describeImpl(title, body);
    } finally {
      skippedBy = outer;
    }
  },
});

export const it = Object.assign((title: string, fn: () => unknown): void => {
  collected.push({ name: [...titles, title].join(' > '), fn, skipped: skippedBy });
}, {
  skip(title: string, fn: () => unknown): void {
    collected.push({ name: [...titles, title].join(' > '), fn, skipped: skippedBy ?? title });
  },
});

export const expect = chai.expect;
