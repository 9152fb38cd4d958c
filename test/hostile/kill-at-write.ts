/**
 * Preload for report-completion.test.ts: `node --import tsx --import <this> bin/fitlab.js …`
 * runs the real CLI, and the moment fitlab opens the temporary file of FITLAB_TEST_KILL_AT
 * (e.g. diagnosis.json) the process kills itself with SIGKILL — after the temporary exists, as
 * a power cut or an OOM kill during the end-of-run writes would leave it. Deterministic: the
 * kill happens at that write, whatever the machine's speed.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';

const target = process.env.FITLAB_TEST_KILL_AT;
if (target) {
  const original = fs.openSync;
  fs.openSync = ((path: fs.PathLike, flags: fs.OpenMode = 'r', mode?: fs.Mode | null) => {
    const fd = original(path, flags, mode);
    if (basename(String(path)).startsWith(`.fitlab-tmp-${target}-`)) {
      fs.writeSync(fd, 'partial');
      process.kill(process.pid, 'SIGKILL');
    }
    return fd;
  });
  syncBuiltinESMExports();
}
