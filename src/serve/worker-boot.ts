/** Worker threads of the dashboard: the compiled file beside this one, or — from TypeScript sources (tests) — via tsx. */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Start `<name>.js` (or `<name>.ts` under tsx) from this folder with `data` as its workerData. */
export function startWorker(name: string, data: unknown): Worker {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData: data });
  const target = new URL(`./${name}.ts`, import.meta.url).href;
  const boot = `import('tsx/esm/api').then((api) => api.register()).then(() => import(${JSON.stringify(target)}));`;
  return new Worker(boot, { eval: true, type: 'module', workerData: data } as ConstructorParameters<typeof Worker>[1]);
}
