/**
 * The `fitlab train` command line equivalent to a run started from the page. The flags come
 * from the run contract's field table (src/io/run-config.ts: runConfigArgs), so every field the
 * page can set — and every other field of the config — is shown as the command line spells it.
 * The signature is stable (the page's New-run tab shows what /api/command returns).
 */
import { type TrainRunConfig, runCommandLine } from '../io/run-config.js';

/**
 * A shell command that starts the same run. An inline model spec is written first to
 * <name>.json by a here-document, so what the page shows can be pasted and run as it is; `set -C`
 * makes that step refuse to replace a file of that name the user already has (and the `&&`
 * then skips the training).
 */
export function trainCommand(c: Partial<TrainRunConfig>): string {
  const line = runCommandLine(c);
  if (!c.modelSpec) return line;
  const name = `${c.model ?? 'model'}.json`;
  // the file name the --model flag names, single-quoted for the shell when it needs it
  const file = /^[A-Za-z0-9._-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`;
  const { layers, ...head } = c.modelSpec as unknown as { layers?: unknown[] } & Record<string, unknown>;
  // one layer a line, as the page's spec box shows it
  const body = Array.isArray(layers)
    ? `${JSON.stringify(head).slice(0, -1)}${Object.keys(head).length ? ', ' : ''}"layers": [\n${layers.map((l) => `  ${JSON.stringify(l)}`).join(',\n')}\n]}`
    : JSON.stringify(c.modelSpec);
  return `(set -C; cat > ${file}) <<'EOF' &&\n${body}\nEOF\n${line}`;
}
