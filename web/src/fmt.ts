// Number formatting for prices, sizes, vols and Greeks (fixed widths keep columns still).

const cache = new Map<string, Intl.NumberFormat>();

function formatter(min: number, max: number): Intl.NumberFormat {
  const key = `${min}:${max}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: min, maximumFractionDigits: max });
    cache.set(key, f);
  }
  return f;
}

export function num(value: number | null | undefined, digits: number, minDigits = digits): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return formatter(minDigits, digits).format(value);
}

// Decimals that show a price at its tick size (0.5 -> 1, 0.0005 -> 4).
export function tickDigits(tick: number): number {
  if (!(tick > 0)) return 2;
  return Math.max(0, Math.min(8, Math.ceil(-Math.log10(tick) - 1e-9)));
}

// An IV in percent; Deribit's 0.0 means "no bid/ask".
export function iv(value: number | undefined): string {
  return value === undefined || value <= 0 ? '–' : num(value, 1, 1);
}

// Small numbers (gamma per USD) keep their significant digits.
export function greek(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (value !== 0 && Math.abs(value) < 10 ** -digits * 10) return value.toExponential(1);
  return num(value, digits, digits);
}

export function compact(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(
    value,
  );
}

export function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

export function days(ms: number, now: number): string {
  const d = (ms - now) / 86_400_000;
  return d < 1 ? `${num(d * 24, 1)}h` : `${num(d, d < 10 ? 1 : 0)}d`;
}
