// An order book rebuilt from `book.{instrument}.{interval}` notifications, as Deribit specifies:
// a snapshot sets every level; each change names the change_id it follows (prev_change_id).
// When that is not the last change applied, a message was lost: the book is no longer known,
// changes are ignored and the caller resubscribes for a new snapshot. Every snapshot (the first
// one, one after a resubscription, greekwire's `"resync": true`) replaces the book.

export type Level = [price: number, amount: number];
type Entry = [action: 'new' | 'change' | 'delete', price: number, amount: number];

export interface BookMessage {
  type: 'snapshot' | 'change';
  instrument_name: string;
  change_id: number;
  prev_change_id?: number;
  timestamp: number;
  bids: Entry[];
  asks: Entry[];
  resync?: boolean;
}

export type ApplyResult = 'applied' | 'gap' | 'ignored';

export class Book {
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();
  changeId: number | null = null;
  timestamp = 0;
  awaitingSnapshot = true;
  snapshots = 0;
  changes = 0;
  gaps = 0;

  constructor(readonly instrument: string) {}

  apply(message: BookMessage): ApplyResult {
    if (message.type === 'snapshot') {
      this.reset(message);
      return 'applied';
    }
    if (this.awaitingSnapshot) return 'ignored';
    if (message.prev_change_id !== this.changeId) {
      this.gaps++;
      this.awaitingSnapshot = true;
      return 'gap';
    }
    applySide(this.bids, message.bids);
    applySide(this.asks, message.asks);
    this.changeId = message.change_id;
    this.timestamp = message.timestamp;
    this.changes++;
    return 'applied';
  }

  // The connection is new: nothing is known until its snapshot.
  forget(): void {
    this.bids.clear();
    this.asks.clear();
    this.awaitingSnapshot = true;
  }

  // Best first: bids from the highest price down, asks from the lowest up.
  topBids(depth: number): Level[] {
    return sorted(this.bids, (a, b) => b - a, depth);
  }

  topAsks(depth: number): Level[] {
    return sorted(this.asks, (a, b) => a - b, depth);
  }

  private reset(message: BookMessage): void {
    this.bids.clear();
    this.asks.clear();
    applySide(this.bids, message.bids);
    applySide(this.asks, message.asks);
    this.changeId = message.change_id;
    this.timestamp = message.timestamp;
    this.awaitingSnapshot = false;
    this.snapshots++;
  }
}

function applySide(side: Map<number, number>, entries: Entry[]): void {
  for (const [action, price, amount] of entries) {
    if (action === 'delete' || amount === 0) side.delete(price);
    else side.set(price, amount);
  }
}

function sorted(side: Map<number, number>, order: (a: number, b: number) => number, depth: number) {
  const prices = [...side.keys()].sort(order);
  const levels: Level[] = [];
  for (let i = 0; i < prices.length && i < depth; i++) levels.push([prices[i], side.get(prices[i])!]);
  return levels;
}
