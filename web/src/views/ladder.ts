// The order book ladder: asks above (best at the bottom), the spread, bids below (best on top),
// each level with its size, the running total and a bar for that total.
import { byId, byTestId, cell, setData, setText } from '../dom';
import { compact, num, tickDigits } from '../fmt';
import type { State } from '../state';

const DEPTH = 10;

interface Row {
  tr: HTMLTableRowElement;
  price: HTMLTableCellElement;
  size: HTMLTableCellElement;
  total: HTMLTableCellElement;
}

export class LadderView {
  private readonly table = byTestId<HTMLTableElement>('book');
  private readonly spread = byId('ladder-spread');
  private readonly asks = makeRows(byId<HTMLTableSectionElement>('ladder-asks'));
  private readonly bids = makeRows(byId<HTMLTableSectionElement>('ladder-bids'));

  render(state: State): void {
    const book = state.book;
    setData(this.table, 'instrument', book?.instrument ?? '');
    setData(this.table, 'changeId', book?.changeId ?? '');
    setData(this.table, 'snapshots', book?.snapshots ?? 0);
    setData(this.table, 'gaps', book?.gaps ?? 0);
    setData(this.table, 'bids', book?.bids.size ?? 0);
    setData(this.table, 'asks', book?.asks.size ?? 0);
    setData(this.table, 'awaiting', book?.awaitingSnapshot ?? true);
    if (!book) return;
    const info = state.instruments.get(book.instrument);
    const digits = tickDigits(info?.tick_size ?? 0.01);
    const sizeDigits = info?.kind === 'option' ? 1 : 0;
    const bids = book.topBids(DEPTH);
    const asks = book.topAsks(DEPTH);
    const totals = (levels: [number, number][]) => {
      let sum = 0;
      return levels.map(([, amount]) => (sum += amount));
    };
    const bidTotals = totals(bids);
    const askTotals = totals(asks);
    const scale = Math.max(bidTotals[bidTotals.length - 1] ?? 0, askTotals[askTotals.length - 1] ?? 0);
    // Asks: the best ask sits just above the spread, so row DEPTH-1 is level 0.
    for (let i = 0; i < DEPTH; i++) {
      fill(this.asks[DEPTH - 1 - i], asks[i], askTotals[i], scale, digits, sizeDigits);
      fill(this.bids[i], bids[i], bidTotals[i], scale, digits, sizeDigits);
    }
    const bestBid = bids[0]?.[0];
    const bestAsk = asks[0]?.[0];
    if (bestBid !== undefined && bestAsk !== undefined) {
      const spread = bestAsk - bestBid;
      const mid = (bestAsk + bestBid) / 2;
      setText(
        this.spread,
        `spread ${num(spread, digits)} (${num((spread / mid) * 10_000, 1)} bp) · mid ${num(mid, digits + 1)}`,
      );
    } else {
      setText(this.spread, book.awaitingSnapshot ? 'waiting for the snapshot…' : 'one-sided book');
    }
  }
}

function makeRows(body: HTMLTableSectionElement): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < DEPTH; i++) {
    const tr = body.insertRow();
    rows.push({ tr, price: cell(tr, 'num'), size: cell(tr, 'num'), total: cell(tr, 'num') });
  }
  return rows;
}

function fill(
  row: Row,
  level: [number, number] | undefined,
  total: number | undefined,
  scale: number,
  digits: number,
  sizeDigits: number,
): void {
  if (!level || total === undefined) {
    setText(row.price, '');
    setText(row.size, '');
    setText(row.total, '');
    row.tr.style.setProperty('--w', '0%');
    return;
  }
  setText(row.price, num(level[0], digits));
  setText(row.size, sizeDigits > 0 ? num(level[1], sizeDigits) : compact(level[1]));
  setText(row.total, sizeDigits > 0 ? num(total, sizeDigits) : compact(total));
  row.tr.style.setProperty('--w', `${scale > 0 ? ((total / scale) * 100).toFixed(1) : 0}%`);
}
