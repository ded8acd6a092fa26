// The option chain of one expiry: calls left, strikes in the middle, puts right. Each side shows
// the Greeks (Deribit's units: delta, gamma per USD, vega USD per vol point, theta USD per day),
// then bid/mark/ask with their IVs, from the options' ticker channels. A click on a side puts
// that option in the order book panel.
import { byId, byTestId, cell, setData, setText } from '../dom';
import { days, greek, iv, num } from '../fmt';
import type { OptionExpiry, Ticker } from '../market';
import type { State } from '../state';

const SIDE_COLUMNS = ['Δ', 'Γ', 'ν', 'Θ', 'IV bid', 'Bid', 'Mark', 'IV mark', 'Ask', 'IV ask'];

interface Side {
  name: string;
  cells: HTMLTableCellElement[]; // in SIDE_COLUMNS order
}

interface Row {
  strike: number;
  tr: HTMLTableRowElement;
  call?: Side;
  put?: Side;
}

export class ChainView {
  private readonly table = byTestId<HTMLTableElement>('chain');
  private readonly body = byId<HTMLTableSectionElement>('chain-rows');
  private readonly tabs = byId('expiry-tabs');
  private readonly note = byId('chain-note');
  private rows: Row[] = [];
  private builtFor: OptionExpiry | null = null;
  private tabsFor: unknown = null;

  constructor(
    private readonly onExpiry: (timestamp: number) => void,
    private readonly onPick: (instrument: string) => void,
  ) {
    const columns = byId<HTMLTableRowElement>('chain-columns');
    for (const name of [...SIDE_COLUMNS, 'Strike', ...SIDE_COLUMNS]) {
      const th = document.createElement('th');
      th.textContent = name;
      if (name === 'Strike') th.style.textAlign = 'center';
      columns.appendChild(th);
    }
  }

  render(state: State): void {
    this.renderTabs(state);
    const expiry = state.chainOptions();
    if (expiry !== this.builtFor) this.build(expiry ?? null);
    if (!expiry) return;
    const digits = 4;
    let withIv = 0;
    let forward = 0;
    for (const row of this.rows) {
      const call = row.call ? state.tickers.get(row.call.name) : undefined;
      const put = row.put ? state.tickers.get(row.put.name) : undefined;
      if (row.call) fillSide(row.call, call, digits, state.selected);
      if (row.put) fillSide(row.put, put, digits, state.selected);
      if ((call?.mark_iv ?? 0) > 0 || (put?.mark_iv ?? 0) > 0) withIv++;
      forward ||= call?.underlying_price ?? put?.underlying_price ?? 0;
    }
    const surfaceSlice = state.surface()?.expiries.find((e) => e.expiration_timestamp === expiry.timestamp);
    forward ||= surfaceSlice?.forward ?? 0;
    this.markMoneyness(forward);
    setData(this.table, 'expiry', expiry.label);
    setData(this.table, 'rows', this.rows.length);
    setData(this.table, 'rowsWithIv', withIv);
    const parts = [`${expiry.strikes.length} strikes`, days(expiry.timestamp, state.marketNow)];
    if (forward > 0) parts.unshift(`F ${num(forward, forward < 10_000 ? 2 : 0)}`);
    if (surfaceSlice) parts.push(`ATM ${num(surfaceSlice.atm_vol, 1)}%`);
    setText(this.note, parts.join(' · '));
  }

  private renderTabs(state: State): void {
    const catalogue = state.catalogue();
    const key = `${state.currency}:${state.chainExpiry}:${catalogue?.expiries.length}`;
    if (key === this.tabsFor) return;
    this.tabsFor = key;
    this.tabs.replaceChildren();
    for (const e of catalogue?.expiries ?? []) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = e.label;
      b.className = e.timestamp === state.chainExpiry ? 'active' : '';
      b.addEventListener('click', () => this.onExpiry(e.timestamp));
      this.tabs.appendChild(b);
    }
  }

  private build(expiry: OptionExpiry | null): void {
    this.builtFor = expiry;
    this.body.replaceChildren();
    this.rows = [];
    if (!expiry) return;
    for (const strike of expiry.strikes) {
      const tr = this.body.insertRow();
      const row: Row = { strike, tr };
      row.call = this.side(tr, expiry.calls.get(strike), true);
      const s = cell(tr, 'strike');
      s.textContent = num(strike, 0);
      row.put = this.side(tr, expiry.puts.get(strike), false);
      this.rows.push(row);
    }
  }

  private side(tr: HTMLTableRowElement, name: string | undefined, isCall: boolean): Side | undefined {
    const classes = ['g', 'g', 'g', 'g', 'ivc', 'bid', '', 'ivc', 'ask', 'ivc'];
    const cells = classes.map((c) => cell(tr, c));
    if (!name) return undefined;
    for (const c of cells) {
      c.title = `${name} (${isCall ? 'call' : 'put'}): show its book`;
      c.addEventListener('click', () => this.onPick(name));
    }
    return { name, cells };
  }

  // The at-the-money strike (nearest the forward) is highlighted; in-the-money sides shaded.
  private markMoneyness(forward: number): void {
    if (!(forward > 0) || this.rows.length === 0) return;
    let atm = this.rows[0];
    for (const row of this.rows) {
      if (Math.abs(row.strike - forward) < Math.abs(atm.strike - forward)) atm = row;
    }
    for (const row of this.rows) {
      row.tr.classList.toggle('atm', row === atm);
      for (const c of row.call?.cells ?? []) c.classList.toggle('itm', row.strike < forward);
      for (const c of row.put?.cells ?? []) c.classList.toggle('itm', row.strike > forward);
    }
  }
}

function fillSide(side: Side, t: Ticker | undefined, digits: number, selected: string | null) {
  const g = t?.greeks;
  const price = (p: number | undefined) => (p === undefined || p <= 0 ? '–' : num(p, digits));
  const values = [
    greek(g?.delta, 3),
    greek(g?.gamma, 5),
    greek(g?.vega, 2),
    greek(g?.theta, 2),
    iv(t?.bid_iv),
    price(t?.best_bid_price),
    price(t?.mark_price),
    iv(t?.mark_iv),
    price(t?.best_ask_price),
    iv(t?.ask_iv),
  ];
  const isSelected = side.name === selected;
  side.cells.forEach((c, i) => {
    setText(c, values[i]);
    c.classList.toggle('selected', isSelected);
  });
}
