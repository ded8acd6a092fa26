// The dashboard: one Connection, the State it fills, the views that draw it. Views are redrawn
// at most once per animation frame, and only those whose data changed.
import './style.css';
import { Book, type BookMessage } from './book';
import { byId, setText } from './dom';
import { num, tickDigits, compact } from './fmt';
import { catalogue, CURRENCIES, type Currency, type Instrument, type Surface, type Ticker, type Trade } from './market';
import { apiUrl, Connection } from './rpc';
import { State } from './state';
import { ChainView } from './views/chain';
import { DepthView } from './views/depth';
import { HeaderView } from './views/header';
import { LadderView } from './views/ladder';
import { PickerView } from './views/picker';
import { SmileView } from './views/smile';
import { SurfaceView } from './views/surface';
import { TapeView } from './views/tape';
import { TermView } from './views/term';

type ViewName = 'header' | 'book' | 'tape' | 'chain' | 'vol' | 'picker';

const INTERVAL = '100ms';
const INDEX_CHANNELS = ['deribit_price_index.btc_usd', 'deribit_price_index.eth_usd'];

class App {
  private readonly state = new State();
  private readonly conn = new Connection(apiUrl(window.location));
  private readonly header = new HeaderView();
  private readonly picker = new PickerView((name) => this.select(name));
  private readonly ladder = new LadderView();
  private readonly depth = new DepthView();
  private readonly tape = new TapeView();
  private readonly chain = new ChainView(
    (expiry) => this.chooseExpiry(expiry),
    (name) => this.select(name),
  );
  private readonly smile = new SmileView();
  private readonly term = new TermView();
  private readonly surface = new SurfaceView();
  private readonly bookStats = byId('book-stats');
  private readonly bookName = byId('book-name');
  private readonly dirty = new Set<ViewName>();
  private frameRequested = false;
  private subscribed = new Set<string>();

  start(): void {
    this.conn.onState = () => this.changed('header');
    this.conn.onStats = () => this.changed('header');
    this.conn.onNotification = (n) => this.notified(n.channel, n.data);
    this.conn.onOpen = () => this.connected();
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-currency]')) {
      button.addEventListener('click', () => this.chooseCurrency(button.dataset.currency as Currency));
    }
    this.tape.reset();
    this.conn.start();
    this.changed('header');
  }

  // A new connection: the instruments again (they may have changed), the book from scratch.
  private async connected(): Promise<void> {
    const lists = await Promise.all(
      CURRENCIES.map((currency) => this.conn.call<Instrument[]>('public/get_instruments', { currency, expired: false })),
    );
    CURRENCIES.forEach((currency, i) => {
      this.state.catalogues.set(currency, catalogue(lists[i]));
      for (const instrument of lists[i]) this.state.instruments.set(instrument.instrument_name, instrument);
    });
    this.state.book?.forget();
    if (!this.state.selected || !this.state.instruments.has(this.state.selected)) this.chooseCurrency(this.state.currency);
    else this.updateSubscriptions();
    this.changed('header', 'book', 'chain', 'vol', 'picker');
  }

  private chooseCurrency(currency: Currency): void {
    this.state.currency = currency;
    for (const b of document.querySelectorAll<HTMLButtonElement>('[data-currency]')) {
      b.classList.toggle('active', b.dataset.currency === currency);
    }
    const c = this.state.catalogue();
    if (!c) return;
    // The expiry nearest a month out: a smile with some curvature and a chain with life in it.
    const month = this.state.marketNow + 30 * 86_400_000;
    const expiry = c.expiries.reduce<(typeof c.expiries)[number] | undefined>(
      (best, e) => (!best || Math.abs(e.timestamp - month) < Math.abs(best.timestamp - month) ? e : best),
      undefined,
    );
    this.state.chainExpiry = expiry?.timestamp ?? null;
    this.select(c.perpetual ?? c.futures[0]?.name ?? '');
    this.changed('chain', 'vol', 'picker');
  }

  private chooseExpiry(timestamp: number): void {
    this.state.chainExpiry = timestamp;
    this.updateSubscriptions();
    this.changed('chain', 'vol');
  }

  private select(name: string): void {
    if (!name || name === this.state.selected) return;
    this.state.selected = name;
    this.state.book = new Book(name);
    this.state.trades = [];
    this.state.tradesSeen = 0;
    this.tape.reset();
    this.updateSubscriptions();
    this.changed('book', 'tape', 'picker', 'chain');
  }

  // The channels the page needs now, against those it has: subscribe and unsubscribe the
  // difference (the Connection subscribes all of them again after a reconnect).
  private updateSubscriptions(): void {
    const wanted = new Set<string>(INDEX_CHANNELS);
    for (const currency of CURRENCIES) wanted.add(`volsurface.${currency}.${INTERVAL}`);
    const selected = this.state.selected;
    if (selected) {
      wanted.add(`book.${selected}.${INTERVAL}`);
      wanted.add(`trades.${selected}.${INTERVAL}`);
      wanted.add(`ticker.${selected}.${INTERVAL}`);
    }
    const expiry = this.state.chainOptions();
    for (const name of [...(expiry?.calls.values() ?? []), ...(expiry?.puts.values() ?? [])]) {
      wanted.add(`ticker.${name}.${INTERVAL}`);
    }
    const removed = [...this.subscribed].filter((c) => !wanted.has(c));
    const added = [...wanted].filter((c) => !this.subscribed.has(c));
    this.conn.unsubscribe(removed);
    this.conn.subscribe(added);
    this.subscribed = wanted;
  }

  private notified(channel: string, data: unknown): void {
    const kind = channel.slice(0, channel.indexOf('.'));
    switch (kind) {
      case 'book':
        return this.bookMessage(channel, data as BookMessage);
      case 'trades':
        return this.tradesMessage(data as Trade[]);
      case 'ticker':
        return this.tickerMessage(data as Ticker);
      case 'deribit_price_index':
        return this.indexMessage(data as { index_name: string; price: number; timestamp: number });
      case 'volsurface':
        this.state.surfaces.set((data as Surface).currency, data as Surface);
        return this.changed('vol', 'chain');
    }
  }

  private bookMessage(channel: string, message: BookMessage): void {
    const book = this.state.book;
    if (!book || message.instrument_name !== book.instrument) return; // an old subscription
    if (book.apply(message) === 'gap') {
      console.warn(`greekwire: ${channel} lost its chain at ${message.prev_change_id}: resubscribing`);
      this.conn.resubscribe(channel);
    }
    this.changed('book');
  }

  private tradesMessage(trades: Trade[]): void {
    const mine = trades.filter((t) => t.instrument_name === this.state.selected);
    if (mine.length === 0) return;
    this.state.addTrades(mine);
    this.changed('tape');
  }

  private tickerMessage(ticker: Ticker): void {
    this.state.tickers.set(ticker.instrument_name, ticker);
    if (ticker.instrument_name === this.state.selected) this.changed('book');
    if (this.state.chainOptions()) this.changed('chain', 'vol');
  }

  private indexMessage(index: { index_name: string; price: number; timestamp: number }): void {
    this.state.marketNow = index.timestamp;
    const previous = this.state.indices.get(index.index_name)?.price ?? index.price;
    this.state.indices.set(index.index_name, { price: index.price, previous });
    this.changed('header');
  }

  private changed(...views: ViewName[]): void {
    for (const v of views) this.dirty.add(v);
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => this.frame());
  }

  private frame(): void {
    this.frameRequested = false;
    const dirty = new Set(this.dirty);
    this.dirty.clear();
    const s = this.state;
    if (dirty.has('header')) this.header.render(s, this.conn);
    if (dirty.has('picker')) this.picker.render(s);
    if (dirty.has('book')) {
      this.ladder.render(s);
      this.depth.render(s);
      this.renderInstrumentLine();
    }
    if (dirty.has('tape')) this.tape.render(s);
    if (dirty.has('chain')) this.chain.render(s);
    if (dirty.has('vol')) {
      this.smile.render(s);
      this.term.render(s);
      this.surface.render(s);
    }
  }

  // The selected instrument's name and its ticker's headline numbers.
  private renderInstrumentLine(): void {
    const name = this.state.selected ?? '–';
    setText(this.bookName, name);
    const t = this.state.tickers.get(name);
    const info = this.state.instruments.get(name);
    if (!t || !info) {
      setText(this.bookStats, '');
      return;
    }
    const digits = tickDigits(info.tick_size);
    const parts = [`mark ${num(t.mark_price, digits + 1)}`];
    if (info.kind === 'option') {
      parts.push(`IV ${num(t.mark_iv, 1)}%`, `Δ ${num(t.greeks?.delta, 3)}`);
    } else if (t.current_funding !== undefined) {
      parts.push(`funding ${num((t.funding_8h ?? 0) * 100, 4)}%/8h`);
    } else {
      parts.push(`OI ${compact(t.open_interest)}`);
    }
    setText(this.bookStats, parts.join(' · '));
  }
}

new App().start();
