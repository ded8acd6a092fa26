// The instrument picker: the perpetual, a future by expiry, or an option by expiry, strike and
// type. It follows the selection when the chain changes it.
import { byId, option } from '../dom';
import { num } from '../fmt';
import type { Catalogue } from '../market';
import type { State } from '../state';

type Kind = 'perpetual' | 'future' | 'option';

export class PickerView {
  private readonly kind = byId<HTMLSelectElement>('pick-kind');
  private readonly expiry = byId<HTMLSelectElement>('pick-expiry');
  private readonly strike = byId<HTMLSelectElement>('pick-strike');
  private readonly type = byId<HTMLSelectElement>('pick-type');
  private shownFor = '';

  constructor(private readonly onPick: (instrument: string) => void) {
    this.kind.addEventListener('change', () => this.changed('kind'));
    this.expiry.addEventListener('change', () => this.changed('expiry'));
    this.strike.addEventListener('change', () => this.changed('strike'));
    this.type.addEventListener('change', () => this.changed('strike'));
  }

  private catalogue: Catalogue | undefined;
  private now = Date.now();

  render(state: State): void {
    this.catalogue = state.catalogue();
    this.now = state.marketNow;
    const key = `${state.currency}:${state.selected}:${this.catalogue?.expiries.length}`;
    if (key === this.shownFor || !this.catalogue || !state.selected) return;
    this.shownFor = key;
    const info = state.instruments.get(state.selected);
    const kind: Kind = info?.kind === 'option' ? 'option' : info?.settlement_period === 'perpetual' ? 'perpetual' : 'future';
    this.kind.value = kind;
    this.fillExpiries(kind);
    this.expiry.value = String(info?.expiration_timestamp ?? '');
    if (kind === 'option') {
      this.fillStrikes();
      this.strike.value = String(info?.strike ?? '');
      this.type.value = info?.option_type === 'put' ? 'P' : 'C';
    }
    this.showFor(kind);
  }

  private showFor(kind: Kind): void {
    this.expiry.hidden = kind === 'perpetual';
    this.strike.hidden = this.type.hidden = kind !== 'option';
  }

  private fillExpiries(kind: Kind): void {
    const c = this.catalogue!;
    this.expiry.replaceChildren();
    if (kind === 'future') for (const f of c.futures) option(this.expiry, String(f.timestamp), f.label);
    if (kind === 'option') for (const e of c.expiries) option(this.expiry, String(e.timestamp), e.label);
  }

  private fillStrikes(): void {
    const e = this.catalogue!.expiries.find((x) => String(x.timestamp) === this.expiry.value);
    const previous = Number(this.strike.value);
    this.strike.replaceChildren();
    for (const k of e?.strikes ?? []) option(this.strike, String(k), num(k, 0));
    // Keep the strike nearest to the one chosen before (expiries list different strikes).
    if (e && e.strikes.length > 0 && previous > 0) {
      const nearest = e.strikes.reduce((a, b) => (Math.abs(b - previous) < Math.abs(a - previous) ? b : a));
      this.strike.value = String(nearest);
    }
  }

  private changed(what: 'kind' | 'expiry' | 'strike'): void {
    const c = this.catalogue;
    if (!c) return;
    const kind = this.kind.value as Kind;
    if (what === 'kind') {
      this.fillExpiries(kind);
      if (kind === 'option') {
        // Start from the expiry nearest a month out, at the money.
        const month = this.now + 30 * 86_400_000;
        const e = c.expiries.reduce((a, b) => (Math.abs(b.timestamp - month) < Math.abs(a.timestamp - month) ? b : a), c.expiries[0]);
        if (e) this.expiry.value = String(e.timestamp);
      }
    }
    if (kind === 'option' && what !== 'strike') this.fillStrikes();
    if (kind === 'option' && what === 'kind') this.strike.value = '';
    this.showFor(kind);
    const name = this.instrument(kind);
    if (name) this.onPick(name);
  }

  private instrument(kind: Kind): string | null {
    const c = this.catalogue!;
    if (kind === 'perpetual') return c.perpetual;
    if (kind === 'future') return c.futures.find((f) => String(f.timestamp) === this.expiry.value)?.name ?? null;
    const e = c.expiries.find((x) => String(x.timestamp) === this.expiry.value);
    if (!e) return null;
    if (!this.strike.value || !e.strikes.includes(Number(this.strike.value))) {
      this.strike.value = String(e.strikes[Math.floor(e.strikes.length / 2)] ?? '');
    }
    const k = Number(this.strike.value);
    return (this.type.value === 'P' ? e.puts.get(k) : e.calls.get(k)) ?? null;
  }
}
