/** SVG → PNG with resvg and a bundled DejaVu Sans, so text renders the same on every machine. */
import { createRequire } from 'node:module';
import { FitlabError } from '../errors.js';

const require = createRequire(import.meta.url);

let fontFile: string | null | undefined;
function font(): string | null {
  if (fontFile === undefined) {
    try {
      fontFile = require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
    } catch {
      fontFile = null;
    }
  }
  return fontFile;
}

export function svgToPng(svg: string, scale = 1.5): Buffer {
  let Resvg: typeof import('@resvg/resvg-js').Resvg;
  try {
    ({ Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js'));
  } catch (err) {
    throw new FitlabError(`PNG rendering needs @resvg/resvg-js, which did not load: ${(err as Error).message}`, 'the SVG versions of the charts are written anyway');
  }
  const f = font();
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { fontFiles: f ? [f] : [], loadSystemFonts: !f, defaultFontFamily: 'DejaVu Sans' },
    background: '#ffffff',
  });
  return r.render().asPng();
}
