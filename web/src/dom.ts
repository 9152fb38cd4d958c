/** Tiny DOM helpers: elements from tag + attributes + children, text only (never innerHTML). */
import type { Picture } from '../../src/serve/protocol.js';

type Child = Node | string | number | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | ((e: Event) => void)> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') e.addEventListener(k.replace(/^on/, ''), v);
    else if (v === false) continue;
    else if (k === 'class') e.className = String(v);
    else if (k in e && k !== 'list') (e as unknown as Record<string, unknown>)[k] = v;
    else e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'number' ? String(c) : c);
  return e;
}

export function $(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`no #${id} in the page`);
  return e;
}

export function clear(e: HTMLElement): HTMLElement {
  e.replaceChildren();
  return e;
}

export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toString();
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(1)}%`;
}

export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  if (s < 60) return `${s.toFixed(0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** A picture drawn into a canvas, scaled up with crisp pixels. */
export function pictureCanvas(p: Picture, scale: number, title?: string): HTMLCanvasElement {
  const c = el('canvas', { width: p.w, height: p.h, class: 'pic', title: title ?? p.label ?? '' });
  c.style.width = `${p.w * scale}px`;
  c.style.height = `${p.h * scale}px`;
  const ctx = c.getContext('2d');
  if (!ctx) return c;
  const img = ctx.createImageData(p.w, p.h);
  for (let i = 0; i < p.w * p.h; i++) {
    const [r, g, b] = p.rgb ? [p.data[3 * i], p.data[3 * i + 1], p.data[3 * i + 2]] : [p.data[i], p.data[i], p.data[i]];
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

/** Little bar chart of a histogram's bins. */
export function histogramCanvas(bins: number[], color: string, w = 120, h = 28): HTMLCanvasElement {
  const c = el('canvas', { width: w, height: h, class: 'hist' });
  const ctx = c.getContext('2d');
  if (!ctx) return c;
  const max = Math.max(1, ...bins);
  const bw = w / bins.length;
  ctx.fillStyle = color;
  bins.forEach((v, i) => {
    const bh = v > 0 ? Math.max(1, (h * v) / max) : 0;
    ctx.fillRect(i * bw, h - bh, Math.max(1, bw - 1), bh);
  });
  return c;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export function toast(message: string, kind: 'error' | 'info' = 'error'): void {
  const t = el('div', { class: `toast ${kind}`, role: 'alert' }, message);
  $('toasts').append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 3000);
}
