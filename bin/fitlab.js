#!/usr/bin/env node
// fitlab command line entry: runs the compiled CLI from dist/ (built by `npm install`).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('fitlab: the CLI is not built yet (dist/ is missing); run `npm install` or `npm run build` in ' + root + '\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
const code = await main(process.argv);
process.exitCode = code;
