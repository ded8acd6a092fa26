// The top bar: BTC and ETH index prices, the connection state, round-trip latency and message
// rate; a banner while reconnecting; the last problem in the footer.
import { byId, byTestId, setData, setText } from '../dom';
import { num } from '../fmt';
import type { Connection } from '../rpc';
import type { State } from '../state';

export class HeaderView {
  private readonly indices = [
    { name: 'btc_usd', element: byTestId('index-btc') },
    { name: 'eth_usd', element: byTestId('index-eth') },
  ];
  private readonly state = byTestId('conn-state');
  private readonly latency = byTestId('latency');
  private readonly rate = byTestId('msg-rate');
  private readonly notice = byTestId('notice');
  private readonly error = byId('last-error');

  render(state: State, conn: Connection): void {
    for (const { name, element } of this.indices) {
      const index = state.indices.get(name);
      if (!index) continue;
      const value = element.querySelector<HTMLElement>('.value')!;
      setText(value, num(index.price, 2, 2));
      value.classList.toggle('up', index.price > index.previous);
      value.classList.toggle('down', index.price < index.previous);
      setData(element, 'price', index.price);
    }
    setData(this.state, 'state', conn.state);
    setData(document.body, 'conn', conn.state); // greys the panels out while reconnecting
    setText(this.state, conn.state === 'reconnecting' ? 'reconnecting…' : conn.state);
    this.state.title = conn.state === 'reconnecting' ? `attempt ${conn.attempts}` : '';
    setData(this.latency, 'ms', conn.latencyMs === null ? '' : conn.latencyMs.toFixed(2));
    setText(this.latency, conn.latencyMs === null ? '–' : `${num(conn.latencyMs, 1, 1)} ms`);
    setData(this.rate, 'rate', Math.round(conn.messageRate));
    setText(this.rate, num(conn.messageRate, 0));
    if (conn.state === 'reconnecting') {
      const wait = Math.max(0, (conn.reconnectAt - performance.now()) / 1000);
      this.notice.hidden = false;
      setText(
        this.notice,
        `Connection to the gateway lost: reconnecting${wait > 0.05 ? ` in ${wait.toFixed(1)} s` : '…'} (attempt ${conn.attempts}). The data below is stale.`,
      );
    } else {
      this.notice.hidden = true;
    }
    setText(this.error, conn.lastError);
  }
}
