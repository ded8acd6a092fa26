// The trades tape of the selected instrument: newest on top, the taker's side as the colour.
import { byId, byTestId, cell, setData, setText } from '../dom';
import { clock, iv, num, tickDigits } from '../fmt';
import type { State } from '../state';

export class TapeView {
  private readonly table = byTestId<HTMLTableElement>('trades');
  private readonly body = byId<HTMLTableSectionElement>('tape-rows');
  private readonly note = byId('trades-note');
  private shown: string | null = null; // the newest trade id on screen

  render(state: State): void {
    setData(this.table, 'count', state.tradesSeen);
    const newest = state.trades[0]?.trade_id ?? null;
    if (newest === this.shown) return;
    const info = state.selected ? state.instruments.get(state.selected) : undefined;
    const digits = tickDigits(info?.tick_size ?? 0.01);
    const option = info?.kind === 'option';
    const fresh = new Set<string>();
    for (const t of state.trades) {
      if (t.trade_id === this.shown) break;
      fresh.add(t.trade_id);
    }
    this.body.replaceChildren();
    for (const t of state.trades.slice(0, 12)) {
      const tr = this.body.insertRow();
      tr.className = t.direction + (fresh.has(t.trade_id) && this.shown !== null ? ' fresh' : '');
      cell(tr).textContent = clock(t.timestamp);
      cell(tr, 'num').textContent = num(t.price, digits);
      cell(tr, 'num').textContent = num(t.amount, option ? 1 : 0);
      cell(tr, 'num').textContent = iv(t.iv);
    }
    this.shown = newest;
    setText(this.note, `${state.tradesSeen} since subscribing`);
  }

  // A new instrument: an empty tape until its first trade (trades come in bursts).
  reset(): void {
    this.shown = null;
    this.body.replaceChildren();
    const tr = this.body.insertRow();
    const td = cell(tr, 'muted');
    td.colSpan = 4;
    td.textContent = 'no trade since subscribing';
    setText(this.note, '');
  }
}
