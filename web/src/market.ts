// The shapes the dashboard reads (docs/PROTOCOL.md) and the instrument catalogue by currency:
// the perpetual, the futures by expiry, the options by expiry and strike.

export type Currency = 'BTC' | 'ETH';
export const CURRENCIES: Currency[] = ['BTC', 'ETH'];

export interface Instrument {
  instrument_name: string;
  kind: 'future' | 'option';
  settlement_period: string;
  expiration_timestamp: number;
  strike?: number;
  option_type?: 'call' | 'put';
  tick_size: number;
  contract_size: number;
}

export interface Greeks {
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
  rho?: number;
}

export interface Ticker {
  instrument_name: string;
  timestamp: number;
  best_bid_price: number;
  best_ask_price: number;
  best_bid_amount: number;
  best_ask_amount: number;
  mark_price: number;
  last_price: number | null;
  index_price: number;
  open_interest: number;
  bid_iv?: number;
  ask_iv?: number;
  mark_iv?: number;
  underlying_price?: number;
  greeks?: Greeks;
  current_funding?: number;
  funding_8h?: number;
  stats: { volume: number; volume_usd?: number; price_change: number | null };
}

export interface Trade {
  trade_id: string;
  timestamp: number;
  price: number;
  amount: number;
  direction: 'buy' | 'sell';
  iv?: number;
  instrument_name: string;
}

export interface SurfaceExpiry {
  expiration_timestamp: number;
  years: number;
  forward: number;
  atm_vol: number;
  rr25: number;
  bf25: number;
  butterfly_free: boolean;
  svi: { a: number; b: number; rho: number; m: number; sigma: number };
}

export interface Surface {
  timestamp: number;
  currency: string;
  index_price: number;
  arbitrage_free: boolean;
  expiries: SurfaceExpiry[];
  strikes: number[];
  iv: number[][];
}

export interface OptionExpiry {
  timestamp: number;
  label: string; // Deribit's date code: 27MAR26
  strikes: number[];
  calls: Map<number, string>;
  puts: Map<number, string>;
}

export interface Catalogue {
  perpetual: string | null;
  futures: { timestamp: number; label: string; name: string }[];
  expiries: OptionExpiry[];
}

// "BTC-27MAR26-70000-C" -> "27MAR26"
export function expiryLabel(name: string): string {
  return name.split('-')[1] ?? name;
}

export function catalogue(instruments: Instrument[]): Catalogue {
  const result: Catalogue = { perpetual: null, futures: [], expiries: [] };
  const byExpiry = new Map<number, OptionExpiry>();
  for (const i of instruments) {
    if (i.kind === 'future') {
      if (i.settlement_period === 'perpetual') result.perpetual = i.instrument_name;
      else
        result.futures.push({
          timestamp: i.expiration_timestamp,
          label: expiryLabel(i.instrument_name),
          name: i.instrument_name,
        });
      continue;
    }
    if (i.kind !== 'option' || i.strike === undefined) continue;
    let expiry = byExpiry.get(i.expiration_timestamp);
    if (!expiry) {
      expiry = {
        timestamp: i.expiration_timestamp,
        label: expiryLabel(i.instrument_name),
        strikes: [],
        calls: new Map(),
        puts: new Map(),
      };
      byExpiry.set(i.expiration_timestamp, expiry);
    }
    (i.option_type === 'put' ? expiry.puts : expiry.calls).set(i.strike, i.instrument_name);
  }
  for (const expiry of byExpiry.values()) {
    const strikes = new Set([...expiry.calls.keys(), ...expiry.puts.keys()]);
    expiry.strikes = [...strikes].sort((a, b) => a - b);
  }
  result.futures.sort((a, b) => a.timestamp - b.timestamp);
  result.expiries = [...byExpiry.values()].sort((a, b) => a.timestamp - b.timestamp);
  return result;
}

// The raw-SVI implied volatility (percent) at strike K of a slice with forward F and T years:
// w(k) = a + b(ρ(k − m) + √((k − m)² + σ²)), k = ln(K/F), σ_imp = √(w/T).
export function sviVol(svi: SurfaceExpiry['svi'], forward: number, years: number, strike: number) {
  const k = Math.log(strike / forward) - svi.m;
  const w = svi.a + svi.b * (svi.rho * k + Math.sqrt(k * k + svi.sigma * svi.sigma));
  return w > 0 && years > 0 ? Math.sqrt(w / years) * 100 : NaN;
}
