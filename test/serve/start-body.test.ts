/**
 * The New run form's body is read once (serve/start-body) for the dashboard server
 * (serve/validate.parseStartRun, which then plans the run) and the static site's worker
 * (site/config.parseSiteRun, with the datasets the page has): the same body gives the same run,
 * and the same bad body the same one-line error, in both.
 */
import { describe, expect, it } from 'vitest';
import { parseSiteRun } from '../../src/site/config.js';
import { parseStartRun } from '../../src/serve/validate.js';

const SITE_DATASETS = ['spirals', 'moons', 'mnist', 'your files'];

describe('one reading of the New run form', () => {
  it('gives the server and the site the same run for the same body', () => {
    const body = { dataset: 'spirals', model: 'tiny', epochs: 7, batchSize: 16, optimizer: 'adam', momentum: 0.8, weightDecay: 0.001, augment: 'none', val: '0.2' };
    const server = parseStartRun(body, '/tmp/fitlab-start-body-runs');
    const site = parseSiteRun(body, SITE_DATASETS);
    expect(server.out).toBe('/tmp/fitlab-start-body-runs');
    const { out: _out, ...serverRun } = server;
    const { out: _siteOut, ...siteRun } = site;
    expect(siteRun).toEqual(serverRun);
    // the form's momentum is Adam's β1; weight decay goes to the optimizer
    expect(site.optimizer).toEqual({ name: 'adam', beta1: 0.8, weightDecay: 0.001 });
    expect(site.augment).toBeNull();
    expect(site.epochs).toBe(7);
  });

  it.each([
    ['an unknown field', { dataset: 'spirals', model: 'tiny', __proto__x: 1 }, /start a run: unknown field "__proto__x"; allowed: /],
    ['no dataset', { model: 'tiny' }, /dataset is required: one of mnist, fashion-mnist, cifar10, spirals/],
    ['no model', { dataset: 'spirals' }, /model is required: a preset \(.*\) or a modelSpec/],
    ['a model that is no preset', { dataset: 'spirals', model: '../../etc/passwd' }, /model must be one of .*; received "..\/..\/etc\/passwd"/],
    ['a spec without layers', { dataset: 'spirals', modelSpec: { name: 'x' } }, /modelSpec needs a "layers" list/],
    ['a learning rate out of range', { dataset: 'spirals', model: 'tiny', lr: -1 }, /lr must be a number in \[0, ∞\)|lr.*received -1/],
    ['momentum that is not a number', { dataset: 'spirals', model: 'tiny', momentum: 'fast' }, /momentum must be a number; received "fast"/],
    ['not an object', [1, 2], /the request body must be a JSON object/],
  ])('refuses %s in one line, the same in both', (_what, body, message) => {
    const errorOf = (f: () => unknown): Error => {
      try {
        f();
      } catch (err) {
        return err as Error;
      }
      throw new Error('no error');
    };
    const server = errorOf(() => parseStartRun(body, '/tmp/fitlab-start-body-runs'));
    const site = errorOf(() => parseSiteRun(body, SITE_DATASETS));
    expect(server.message).toMatch(message);
    expect(server.message).not.toContain('\n');
    // the datasets offered differ (the page has its own list); everything else reads the same
    if (!server.message.startsWith('dataset is required')) expect(site.message).toBe(server.message);
    else expect(site.message).toBe('dataset is required: one of spirals, moons, mnist, your files');
  });

  it('lets the site offer datasets the server does not, and refuses the others', () => {
    expect(parseSiteRun({ dataset: 'your files', model: 'tiny' }, SITE_DATASETS).dataset).toBe('your files');
    expect(() => parseSiteRun({ dataset: 'cifar10', model: 'lecture-cnn' }, SITE_DATASETS)).toThrow(/dataset must be one of spirals, moons, mnist, your files; received "cifar10"/);
  });
});
