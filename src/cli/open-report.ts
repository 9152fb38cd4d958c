/**
 * Where a run's report.html is, said in the terminal, and `diagnose --open` to show it: the
 * train and diagnose commands otherwise print only text, and a user never learns the charts exist.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A path as the user would type it: relative to the working directory when inside it. */
export function shownPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

/** The platform's "open this file with its default application" command. */
function opener(): { cmd: string; args: string[] } {
  if (process.platform === 'darwin') return { cmd: 'open', args: [] };
  if (process.platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""'] };
  return { cmd: 'xdg-open', args: [] };
}

/**
 * Opens `file` in the default browser, detached (fitlab does not wait for the browser). Resolves
 * to null once the opener started, or to one line saying why it could not and what to open instead.
 */
export function openInBrowser(file: string): Promise<string | null> {
  const { cmd, args } = opener();
  const url = pathToFileURL(file).href;
  return new Promise((done) => {
    const child = spawn(cmd, [...args, file], { detached: true, stdio: 'ignore' });
    child.once('error', (e: NodeJS.ErrnoException) => {
      done(`could not start ${cmd} (${e.code ?? e.message}); open ${url} in a browser`);
    });
    child.once('spawn', () => {
      child.unref();
      done(null);
    });
  });
}

/** "  report: runs/x/report.html   (fitlab diagnose runs/x --open shows it)", when the run has one. */
export function reportLine(runDir: string): string | null {
  const report = join(runDir, 'report.html');
  if (!existsSync(report)) return null;
  return `  report: ${shownPath(report)}   (charts and tables; fitlab diagnose ${shownPath(runDir)} --open shows it)`;
}
