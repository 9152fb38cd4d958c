/**
 * The diagnosis against 35 real training logs from public repositories (issue 15), each judged
 * by hand BEFORE fitlab was run on it (fixtures/real/judgements.json; never edit those). Every
 * file is read with the reader a user gets (loadHistory, no hints), diagnosed, and compared with
 * the judgement: the regime must be one the judgement accepts, and where the judgement gives an
 * onset range, fitlab's onset must fall inside it. At least 90% of the files must agree; the
 * full table is printed so that every disagreement can be read and argued with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Diagnosis, diagnose } from '../../src/diagnose/diagnose.js';
import { loadHistory } from '../../src/diagnose/read.js';

const DIR = join(import.meta.dirname, 'fixtures', 'real');

interface Judgement {
  file: string;
  regime: string;
  acceptableRegimes: string[];
  /** 1-based, inclusive */
  onsetRange: [number, number] | null;
  bestEpoch: number | null;
}

/**
 * fitlab's regimes in the judgements' vocabulary: the judgements say "still-improving" where
 * fitlab says "not-converged"; every other name is the same.
 */
const VOCABULARY: Record<Diagnosis['regime'], string> = {
  overfitting: 'overfitting',
  'partial-overfitting': 'partial-overfitting',
  healthy: 'healthy',
  underfitting: 'underfitting',
  'not-converged': 'still-improving',
  diverged: 'diverged',
  'no-validation': 'no-validation',
  noisy: 'noisy',
};

interface Row {
  file: string;
  expected: string;
  expectedOnset: string;
  got: string;
  gotOnset: string;
  agree: boolean;
  why: string;
}

function judge(j: Judgement): Row {
  const expected = j.acceptableRegimes.join('|');
  const expectedOnset = j.onsetRange ? `${j.onsetRange[0]}-${j.onsetRange[1]}` : '—';
  let d: Diagnosis;
  try {
    const loaded = loadHistory(join(DIR, j.file));
    d = diagnose(loaded.history, loaded.context);
  } catch (err) {
    return { file: j.file, expected, expectedOnset, got: 'error', gotOnset: '—', agree: false, why: (err as Error).message.slice(0, 120) };
  }
  const got = VOCABULARY[d.regime];
  const regimeOk = j.acceptableRegimes.includes(got);
  const overfit = got === 'overfitting' || got === 'partial-overfitting';
  // an onset is checked where the judgement gives a range and fitlab calls it overfitting
  const onsetOk = !j.onsetRange || !overfit || (d.onsetEpoch !== null && d.onsetEpoch >= j.onsetRange[0] && d.onsetEpoch <= j.onsetRange[1]);
  const why = !regimeOk ? 'regime' : !onsetOk ? 'onset' : '';
  return { file: j.file, expected, expectedOnset, got, gotOnset: d.onsetEpoch === null ? '—' : String(d.onsetEpoch), agree: regimeOk && onsetOk, why };
}

function table(rows: Row[]): string {
  const head = ['file', 'judged', 'onset', 'fitlab', 'onset', 'agree'];
  const cells = rows.map((r) => [r.file, r.expected, r.expectedOnset, r.got, r.gotOnset, r.agree ? 'yes' : `NO (${r.why})`]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((v, i) => v.padEnd(widths[i])).join('  ');
  return [line(head), ...cells.map(line)].join('\n');
}

describe('the corpus of real training logs (issue 15)', () => {
  const judgements = JSON.parse(readFileSync(join(DIR, 'judgements.json'), 'utf8')) as Judgement[];

  it('holds the 35 judged files', () => {
    expect(judgements).toHaveLength(35);
  });

  it('fitlab agrees with at least 90% of the hand judgements (regime, and onset inside the judged range)', () => {
    const rows = judgements.map(judge);
    const agree = rows.filter((r) => r.agree).length;
    console.log(`${table(rows)}\n\nagreement: ${agree}/${rows.length} = ${((100 * agree) / rows.length).toFixed(1)}%`);
    expect(agree / rows.length).toBeGreaterThanOrEqual(0.9);
  });
});
