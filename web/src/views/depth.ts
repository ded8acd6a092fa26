// The depth chart: cumulative bid size stepping down from the best bid to the left, cumulative
// ask size stepping up from the best ask to the right.
import uPlot from 'uplot';
import { axis, colours, grouped, makeChart } from '../charts';
import { byId, setData, setText } from '../dom';
import { compact } from '../fmt';
import type { State } from '../state';

const LEVELS = 40;

export class DepthView {
  private readonly container = byId('depth-chart');
  private readonly note = byId('depth-note');
  private readonly chart: uPlot;

  constructor() {
    const container = this.container;
    this.chart = makeChart(
      container,
      {
        legend: { show: false },
        cursor: { y: false, points: { show: false } },
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, max * 1.05 || 1] } },
        axes: [axis('', grouped(2)), axis('', (_u, v) => v.map((x) => compact(x)), 52)],
        series: [
          {},
          {
            label: 'bids',
            stroke: colours.bid,
            fill: colours.bidFill,
            width: 1.5,
            paths: uPlot.paths.stepped!({ align: -1 }),
            points: { show: false },
          },
          {
            label: 'asks',
            stroke: colours.ask,
            fill: colours.askFill,
            width: 1.5,
            paths: uPlot.paths.stepped!({ align: 1 }),
            points: { show: false },
          },
        ],
        hooks: {
          draw: [(u) => setData(container, 'drawn', (u.data[0]?.length ?? 0) > 1)],
        },
      },
      [[], [], []],
    );
  }

  render(state: State): void {
    const book = state.book;
    if (!book) return;
    const bids = book.topBids(LEVELS); // best first
    const asks = book.topAsks(LEVELS);
    const x: number[] = [];
    const bidY: (number | null)[] = [];
    const askY: (number | null)[] = [];
    let sum = bids.reduce((s, [, a]) => s + a, 0);
    // Bids from the furthest price up to the best: the total shrinks as the price rises.
    for (let i = bids.length - 1; i >= 0; i--) {
      x.push(bids[i][0]);
      bidY.push(sum);
      askY.push(null);
      sum -= bids[i][1];
    }
    sum = 0;
    for (const [price, amount] of asks) {
      sum += amount;
      x.push(price);
      bidY.push(null);
      askY.push(sum);
    }
    this.chart.setData([x, bidY, askY] as uPlot.AlignedData);
    setText(this.note, `${bids.length} × ${asks.length} levels`);
  }
}
