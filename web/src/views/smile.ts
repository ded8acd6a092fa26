// The IV smile of the chain's expiry: the market's mark IVs as points (out-of-the-money side:
// puts below the forward, calls above), bid and ask IVs as small points, and the venue's fitted
// SVI slice from volsurface.{currency}.100ms as a line; a dashed line at the forward.
import uPlot from 'uplot';
import { axis, colours, grouped, makeChart } from '../charts';
import { byId, setData, setText } from '../dom';
import { sviVol, type Ticker } from '../market';
import type { State } from '../state';

const CURVE_SAMPLES = 120;

export class SmileView {
  private readonly container = byId('smile-chart');
  private readonly label = byId('smile-expiry');
  private readonly chart: uPlot;
  private forward = 0;

  constructor() {
    const container = this.container;
    const dots = (stroke: string, size: number, fill = stroke) => ({
      stroke,
      width: 1,
      paths: () => null,
      points: { show: true, size, stroke, fill },
    });
    this.chart = makeChart(
      container,
      {
        legend: { show: false },
        cursor: { points: { show: false } },
        scales: { x: { time: false } },
        axes: [axis('strike', grouped(), 34), axis('IV %', undefined, 44)],
        series: [
          {},
          { label: 'SVI', stroke: colours.curve, width: 2, points: { show: false }, spanGaps: true },
          dots(colours.bid, 4),
          dots(colours.ask, 4),
          dots(colours.mark, 7, '#0d1117'),
        ],
        hooks: {
          draw: [
            (u) => {
              this.drawForward(u);
              const curve = u.data[1] as (number | null)[];
              const drawn = curve.filter((v) => v !== null && Number.isFinite(v)).length;
              setData(container, 'curvePoints', drawn);
              setData(container, 'curve', drawn >= 2);
            },
          ],
        },
      },
      [[], [], [], [], []],
    );
  }

  render(state: State): void {
    const expiry = state.chainOptions();
    if (!expiry) return;
    const slice = state.surface()?.expiries.find((e) => e.expiration_timestamp === expiry.timestamp);
    const tickers = expiry.strikes.map((k) => ({ k, c: expiry.calls.get(k), p: expiry.puts.get(k) }));
    let forward = slice?.forward ?? 0;
    for (const { c, p } of tickers) {
      forward ||= (c && state.tickers.get(c)?.underlying_price) || (p && state.tickers.get(p)?.underlying_price) || 0;
    }
    this.forward = forward;
    // Out of the money: puts below the forward, calls at and above it.
    const quoted = tickers.map(({ k, c, p }) => {
      const [first, second] = k < forward ? [p, c] : [c, p];
      return { k, t: pick(state, first, second) };
    });
    const strikes = expiry.strikes;
    const lo = strikes[0];
    const hi = strikes[strikes.length - 1];
    const xs = new Set<number>(strikes);
    if (slice && hi > lo) {
      // Evenly spaced in log-strike, where the smile is smooth.
      for (let i = 0; i <= CURVE_SAMPLES; i++) xs.add(lo * Math.exp((Math.log(hi / lo) * i) / CURVE_SAMPLES));
    }
    const x = [...xs].sort((a, b) => a - b);
    const byStrike = new Map(quoted.map((q) => [q.k, q.t]));
    const positive = (v: number | undefined) => (v !== undefined && v > 0 ? v : null);
    const curve = x.map((k) => (slice ? finite(sviVol(slice.svi, slice.forward, slice.years, k)) : null));
    const mark = x.map((k) => positive(byStrike.get(k)?.mark_iv));
    const bid = x.map((k) => positive(byStrike.get(k)?.bid_iv));
    const ask = x.map((k) => positive(byStrike.get(k)?.ask_iv));
    setData(this.container, 'points', mark.filter((v) => v !== null).length);
    setData(this.container, 'expiry', expiry.label);
    setText(this.label, `${expiry.label}${slice ? ` · T ${(slice.years * 365).toFixed(1)}d` : ' · the fit comes with the next surface'}`);
    this.chart.setData([x, curve, bid, ask, mark] as uPlot.AlignedData);
  }

  private drawForward(u: uPlot): void {
    if (!(this.forward > 0)) return;
    const x = Math.round(u.valToPos(this.forward, 'x', true));
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = colours.accent;
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.fillStyle = colours.accent;
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.fillText('F', x + 4, u.bbox.top + 12 * devicePixelRatio);
    ctx.restore();
  }
}

function pick(state: State, first?: string, second?: string): Ticker | undefined {
  const a = first ? state.tickers.get(first) : undefined;
  if (a && (a.mark_iv ?? 0) > 0) return a;
  return (second ? state.tickers.get(second) : undefined) ?? a;
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

