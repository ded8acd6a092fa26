// Everything the page knows, filled by notifications and read by the views.
import { Book } from './book';
import type { Catalogue, Currency, Instrument, Surface, Ticker, Trade } from './market';

export const TAPE_LENGTH = 60;

export class State {
  currency: Currency = 'BTC';
  readonly catalogues = new Map<Currency, Catalogue>();
  readonly instruments = new Map<string, Instrument>();
  // The order book panel's instrument, and the chain's (and the smile's) expiry.
  selected: string | null = null;
  chainExpiry: number | null = null;
  book: Book | null = null;
  readonly tickers = new Map<string, Ticker>();
  trades: Trade[] = []; // the selected instrument's, newest first
  tradesSeen = 0;
  readonly surfaces = new Map<string, Surface>();
  readonly indices = new Map<string, { price: number; previous: number }>();
  // The market's clock (the venue's timestamps run ahead of ours with `serve --speed`).
  marketNow = Date.now();

  catalogue(): Catalogue | undefined {
    return this.catalogues.get(this.currency);
  }

  chainOptions() {
    return this.catalogue()?.expiries.find((e) => e.timestamp === this.chainExpiry);
  }

  surface(): Surface | undefined {
    return this.surfaces.get(this.currency);
  }

  addTrades(trades: Trade[]): void {
    // Notifications list trades oldest first; the tape shows the newest on top.
    for (const t of trades) this.trades.unshift(t);
    if (this.trades.length > TAPE_LENGTH) this.trades.length = TAPE_LENGTH;
    this.tradesSeen += trades.length;
  }
}
