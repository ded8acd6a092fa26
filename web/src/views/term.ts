// The term structure from volsurface.{currency}.100ms: per expiry (days out), the ATM vol and
// the 25-delta put and call vols (ATM + bf25 ∓ rr25/2), so skew and its decay show at a glance.
import uPlot from 'uplot';
import { axis, colours, makeChart } from '../charts';
import { byId, setData, setText } from '../dom';
import { num } from '../fmt';
import type { State } from '../state';

const PUT = '#ff9f43';
const CALL = '#a78bfa';

export class TermView {
  private readonly container = byId('term-chart');
  private readonly note = byId('term-note');
  private readonly chart: uPlot;

  constructor() {
    const line = (label: string, stroke: string, width: number) => ({
      label,
      stroke,
      width,
      points: { show: true, size: 5, fill: '#0d1117', stroke },
    });
    this.chart = makeChart(
      this.container,
      {
        legend: { show: false },
        cursor: { points: { show: false } },
        scales: {
          x: { time: false },
          // At least four vol points tall: a flat term structure should look flat.
          y: {
            range: (_u, min, max) => {
              const mid = (min + max) / 2;
              const half = Math.max((max - min) / 2 + 0.5, 2);
              return [mid - half, mid + half];
            },
          },
        },
        axes: [axis('days to expiry', undefined, 34), axis('IV %', undefined, 44)],
        series: [
          {},
          line('25Δ put', PUT, 1.5),
          line('ATM', colours.accent, 2),
          line('25Δ call', CALL, 1.5),
        ],
      },
      [[], [], [], []],
    );
  }

  render(state: State): void {
    const surface = state.surface();
    if (!surface) return;
    const slices = surface.expiries.filter((e) => e.years > 0);
    const x = slices.map((e) => e.years * 365);
    const atm = slices.map((e) => e.atm_vol);
    const put = slices.map((e) => e.atm_vol + e.bf25 - e.rr25 / 2);
    const call = slices.map((e) => e.atm_vol + e.bf25 + e.rr25 / 2);
    this.chart.setData([x, put, atm, call]);
    setData(this.container, 'points', x.length);
    const first = slices[0];
    const last = slices[slices.length - 1];
    if (first && last) {
      setText(
        this.note,
        `ATM ${num(first.atm_vol, 1)}% → ${num(last.atm_vol, 1)}% · ${surface.arbitrage_free ? 'arbitrage-free' : 'not arbitrage-free'}`,
      );
    }
  }
}
