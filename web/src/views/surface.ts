// The whole surface as a heatmap: expiries down, the 13 strikes of volsurface's grid across
// (index × e^(0.1·i): evenly spaced in log-strike), the IV as colour and, where a cell is big
// enough, as a number. The chain's expiry is outlined; hovering a cell names it.
import { byId, byTestId, cell, setData, setText } from '../dom';
import { num } from '../fmt';
import type { Surface } from '../market';
import type { State } from '../state';

// Viridis-like stops: low vols dark blue, high vols yellow; readable text on each.
const STOPS: [number, number, number][] = [
  [48, 18, 59],
  [50, 100, 178],
  [31, 158, 137],
  [109, 205, 89],
  [253, 231, 37],
];

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

export function dateLabel(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()}${MONTHS[d.getUTCMonth()]}${String(d.getUTCFullYear() % 100).padStart(2, '0')}`;
}

function colour(t: number): string {
  const x = Math.max(0, Math.min(1, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const c = STOPS[i].map((v, j) => Math.round(v + (STOPS[i + 1][j] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

interface Layout {
  left: number;
  top: number;
  cellW: number;
  cellH: number;
  rows: number;
  cols: number;
}

export class SurfaceView {
  private readonly canvas = byId<HTMLCanvasElement>('surface-canvas');
  private readonly note = byId('surface-note');
  private layout: Layout | null = null;
  private drawnFor: Surface | null = null;
  private drawnExpiry: number | null = null;
  private lastSurface: Surface | null = null;
  private readonly slices = byTestId<HTMLTableElement>('slices');
  private readonly sliceRows = byId<HTMLTableSectionElement>('slice-rows');

  constructor() {
    new ResizeObserver(() => {
      this.drawnFor = null;
      if (this.lastSurface) this.draw(this.lastSurface, this.drawnExpiry);
    }).observe(this.canvas.parentElement!);
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
  }

  render(state: State): void {
    const surface = state.surface();
    if (!surface) return;
    if (surface === this.drawnFor && state.chainExpiry === this.drawnExpiry) return;
    this.draw(surface, state.chainExpiry);
    this.renderSlices(surface, state.chainExpiry);
  }

  // Per expiry: days, forward, ATM vol, 25-delta risk reversal and butterfly, and whether the
  // slice passes the butterfly-arbitrage conditions.
  private renderSlices(surface: Surface, chainExpiry: number | null): void {
    this.sliceRows.replaceChildren();
    const digits = surface.index_price < 10_000 ? 2 : 0;
    for (const e of surface.expiries) {
      const tr = this.sliceRows.insertRow();
      tr.className = e.expiration_timestamp === chainExpiry ? 'chosen' : '';
      cell(tr).textContent = dateLabel(e.expiration_timestamp);
      cell(tr, 'num').textContent = num(e.years * 365, 1, 1);
      cell(tr, 'num').textContent = num(e.forward, digits, digits);
      cell(tr, 'num').textContent = `${num(e.atm_vol, 1, 1)}%`;
      cell(tr, 'num').textContent = num(e.rr25, 2, 2);
      cell(tr, 'num').textContent = num(e.bf25, 2, 2);
      const free = cell(tr, 'num' + (e.butterfly_free ? '' : ' bad'));
      free.textContent = e.butterfly_free ? 'yes' : 'no';
    }
    setData(this.slices, 'rows', surface.expiries.length);
  }

  private draw(surface: Surface, chainExpiry: number | null): void {
    this.lastSurface = surface;
    const canvas = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width < 50 || height < 50) return;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const rows = surface.expiries.length;
    const cols = surface.strikes.length;
    const values = surface.iv.flat().filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    if (rows === 0 || cols === 0 || values.length === 0) return;
    // The colour scale stops at the 90th percentile: the short-dated wings would otherwise
    // take the whole scale and leave the rest of the surface one colour. Above it: the top colour.
    const lo = values[0];
    const max = values[values.length - 1];
    const hi = values[Math.floor((values.length - 1) * 0.9)];
    const clipped = max > hi;
    const span = hi - lo || 1;

    const left = 62;
    const top = 6;
    const legend = 58;
    const bottom = 34;
    const cellW = (width - left - legend) / cols;
    const cellH = Math.min(40, (height - top - bottom) / rows);
    this.layout = { left, top, cellW, cellH, rows, cols };

    ctx.font = `${cellW >= 30 ? 11 : 10}px ui-monospace, "DejaVu Sans Mono", monospace`;
    ctx.textBaseline = 'middle';
    let cells = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = surface.iv[r]?.[c];
        if (!Number.isFinite(v)) continue;
        const t = (v - lo) / span;
        ctx.fillStyle = colour(t);
        ctx.fillRect(left + c * cellW, top + r * cellH, Math.ceil(cellW), Math.ceil(cellH));
        cells++;
        if (cellW >= 22 && cellH >= 14) {
          ctx.fillStyle = t > 0.55 ? '#111' : '#f0f0f0';
          ctx.textAlign = 'center';
          ctx.fillText(num(v, cellW >= 40 ? 1 : 0), left + (c + 0.5) * cellW, top + (r + 0.5) * cellH);
        }
      }
    }
    // The index's column (i = 0 is the middle strike) and the chain's expiry.
    const mid = Math.floor(cols / 2);
    ctx.strokeStyle = 'rgba(255,255,255,0.8)';
    ctx.setLineDash([3, 3]);
    ctx.strokeRect(left + mid * cellW + 0.5, top + 0.5, cellW - 1, rows * cellH - 1);
    ctx.setLineDash([]);
    const chosen = surface.expiries.findIndex((e) => e.expiration_timestamp === chainExpiry);
    if (chosen >= 0) {
      ctx.strokeStyle = '#58a6ff';
      ctx.lineWidth = 2;
      ctx.strokeRect(left + 1, top + chosen * cellH + 1, cols * cellW - 2, cellH - 2);
      ctx.lineWidth = 1;
    }

    // Labels: expiries on the left, strikes below (every other one when tight).
    ctx.fillStyle = '#8b949e';
    ctx.textAlign = 'right';
    for (let r = 0; r < rows; r++) {
      ctx.fillText(dateLabel(surface.expiries[r].expiration_timestamp), left - 6, top + (r + 0.5) * cellH);
    }
    ctx.textAlign = 'center';
    const every = cellW < 42 ? 2 : 1;
    for (let c = 0; c < cols; c += every) {
      const k = surface.strikes[c];
      const text = k >= 10_000 ? `${num(k / 1000, 1)}k` : num(k, 0);
      ctx.fillText(text, left + (c + 0.5) * cellW, top + rows * cellH + 11);
    }
    ctx.fillText('strike', left + (cols * cellW) / 2, top + rows * cellH + 26);

    // The colour bar.
    const barX = width - legend + 12;
    const barH = rows * cellH;
    for (let y = 0; y < barH; y++) {
      ctx.fillStyle = colour(1 - y / barH);
      ctx.fillRect(barX, top + y, 10, 1);
    }
    ctx.textAlign = 'left';
    ctx.fillStyle = '#8b949e';
    ctx.fillText(`${clipped ? '≥' : ''}${num(hi, 0)}%`, barX + 13, top + 6);
    ctx.fillText(`${num(lo, 0)}%`, barX + 13, top + barH - 6);

    this.drawnFor = surface;
    this.drawnExpiry = chainExpiry;
    setData(canvas, 'drawn', true);
    setData(canvas, 'cells', cells);
    setData(canvas, 'rows', rows);
    setData(canvas, 'cols', cols);
    setText(
      this.note,
      `${surface.currency} ${surface.expiries.length} × ${cols} · index ${num(surface.index_price, 2)} · IV ${num(lo, 1)}–${num(max, 1)}%`,
    );
  }

  private hover(e: MouseEvent): void {
    const l = this.layout;
    const s = this.lastSurface;
    if (!l || !s) return;
    const c = Math.floor((e.offsetX - l.left) / l.cellW);
    const r = Math.floor((e.offsetY - l.top) / l.cellH);
    if (r < 0 || c < 0 || r >= l.rows || c >= l.cols) {
      this.canvas.title = '';
      return;
    }
    this.canvas.title = `${dateLabel(s.expiries[r].expiration_timestamp)} · strike ${num(s.strikes[c], 0)} · IV ${num(s.iv[r][c], 2)}%`;
  }
}
