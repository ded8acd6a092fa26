// The dashboard's one WebSocket: Deribit's JSON-RPC API v2 at /ws/api/v2 on the page's own
// origin, exactly as any browser client would use it. It keeps itself alive:
//  - heartbeats: public/set_heartbeat, and every `test_request` answered with public/test
//    (the gateway closes a connection that does not answer);
//  - a watchdog: a socket that has been silent for too long is dropped and reopened (a dead
//    peer does not always produce a close event quickly);
//  - reconnection with exponential backoff and jitter, after which every channel that was
//    wanted is subscribed again (the books then start over from their new snapshots).

export type ConnState = 'connecting' | 'connected' | 'reconnecting';

export interface Notification {
  channel: string;
  data: unknown;
}

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${code} ${message}`);
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: number;
}

const HEARTBEAT_S = 10; // the gateway's (and Deribit's) smallest interval
const WATCHDOG_MS = 3 * HEARTBEAT_S * 1000; // no message for this long: the socket is dead
const CALL_TIMEOUT_MS = 10_000;
const PROBE_INTERVAL_MS = 2_000; // public/test round trips for the latency figure
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 4_000;

export function apiUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws/api/v2`;
}

export class Connection {
  state: ConnState = 'connecting';
  latencyMs: number | null = null;
  messageRate = 0; // messages received per second, over the last second
  reconnectAt = 0; // performance.now() of the next attempt while reconnecting
  attempts = 0; // failed attempts since the last successful open
  lastError = '';

  // Set by the application.
  onState: (state: ConnState) => void = () => {};
  onNotification: (n: Notification) => void = () => {};
  onOpen: () => Promise<void> = async () => {};
  onStats: () => void = () => {};

  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly wanted = new Set<string>();
  private lastMessageAt = 0;
  private messagesThisSecond = 0;
  private rateWindowStart = performance.now();

  constructor(private readonly url: string) {}

  start(): void {
    this.open();
    window.setInterval(() => this.tick(), PROBE_INTERVAL_MS / 2);
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  // One JSON-RPC call: the result, or an RpcError with Deribit's code.
  call<T = unknown>(method: string, params: object = {}): Promise<T> {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`${method}: not connected`));
    }
    const id = this.nextId++;
    socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return new Promise<T>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
    });
  }

  // Channels are wanted until unsubscribed: they are subscribed again after a reconnect.
  subscribe(channels: string[]): void {
    const added = channels.filter((c) => !this.wanted.has(c));
    for (const c of added) this.wanted.add(c);
    if (added.length > 0 && this.connected) this.send('public/subscribe', added);
  }

  unsubscribe(channels: string[]): void {
    const removed = channels.filter((c) => this.wanted.delete(c));
    if (removed.length > 0 && this.connected) this.send('public/unsubscribe', removed);
  }

  // A book that lost its chain asks for a new snapshot: unsubscribe, then subscribe again.
  resubscribe(channel: string): void {
    if (!this.wanted.has(channel) || !this.connected) return;
    this.call('public/unsubscribe', { channels: [channel] })
      .then(() => this.call('public/subscribe', { channels: [channel] }))
      .catch((e: Error) => this.warn(`resubscribe ${channel}: ${e.message}`));
  }

  private send(method: 'public/subscribe' | 'public/unsubscribe', channels: string[]): void {
    this.call(method, { channels }).catch((e: Error) => this.warn(`${method}: ${e.message}`));
  }

  private warn(message: string): void {
    this.lastError = message;
    console.warn(`greekwire: ${message}`);
    this.onStats();
  }

  private open(): void {
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch (e) {
      this.warn(`cannot open ${this.url}: ${(e as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.lastMessageAt = performance.now();
    socket.onopen = () => void this.opened();
    socket.onmessage = (event) => this.received(event.data);
    socket.onclose = () => this.closed();
    // A failed handshake is followed by a close event: that is where we reconnect.
    socket.onerror = () => {};
  }

  private async opened(): Promise<void> {
    this.attempts = 0;
    this.setState('connected');
    try {
      // What was wanted before this connection; onOpen may subscribe more (sent at once).
      const before = [...this.wanted];
      await this.call('public/set_heartbeat', { interval: HEARTBEAT_S });
      await this.onOpen();
      const again = before.filter((c) => this.wanted.has(c));
      if (again.length > 0) await this.call('public/subscribe', { channels: again });
    } catch (e) {
      this.warn(`after connecting: ${(e as Error).message}`);
    }
    this.probe();
  }

  private received(text: unknown): void {
    this.lastMessageAt = performance.now();
    this.messagesThisSecond++;
    if (typeof text !== 'string') return; // we ask for JSON only
    let message: {
      id?: number;
      result?: unknown;
      error?: { code: number; message: string };
      method?: string;
      params?: { channel?: string; data?: unknown; type?: string };
    };
    try {
      message = JSON.parse(text);
    } catch {
      this.warn('a message that is not JSON');
      return;
    }
    if (typeof message.id === 'number') {
      this.answered(message.id, message.result, message.error);
    } else if (message.method === 'subscription' && message.params?.channel) {
      this.onNotification({ channel: message.params.channel, data: message.params.data });
    } else if (message.method === 'heartbeat' && message.params?.type === 'test_request') {
      this.call('public/test').catch(() => {});
    }
  }

  private answered(id: number, result: unknown, error?: { code: number; message: string }): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    window.clearTimeout(pending.timer);
    if (error) pending.reject(new RpcError(error.code, error.message));
    else pending.resolve(result);
  }

  private closed(): void {
    this.socket = null;
    for (const [, pending] of this.pending) {
      window.clearTimeout(pending.timer);
      pending.reject(new Error('connection closed'));
    }
    this.pending.clear();
    this.scheduleReconnect();
  }

  // Forgets a socket that stopped talking: its close event may take minutes to come.
  private drop(reason: string): void {
    const socket = this.socket;
    if (socket === null) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    socket.close();
    this.warn(reason);
    this.closed();
  }

  private scheduleReconnect(): void {
    const exponential = Math.min(BACKOFF_FIRST_MS * 2 ** this.attempts, BACKOFF_MAX_MS);
    const delay = exponential * (0.75 + Math.random() * 0.5);
    this.attempts++;
    this.reconnectAt = performance.now() + delay;
    this.latencyMs = null;
    this.setState('reconnecting');
    window.setTimeout(() => this.open(), delay);
  }

  private setState(state: ConnState): void {
    this.state = state;
    this.onState(state);
  }

  private probe(): void {
    if (!this.connected) return;
    const sent = performance.now();
    this.call('public/test')
      .then(() => {
        this.latencyMs = performance.now() - sent;
        this.onStats();
      })
      .catch(() => {});
  }

  // Twice per probe interval: the message rate; the latency probe; the watchdog.
  private probeDue = false;
  private tick(): void {
    const now = performance.now();
    this.messageRate = (this.messagesThisSecond * 1000) / (now - this.rateWindowStart);
    this.messagesThisSecond = 0;
    this.rateWindowStart = now;
    if (this.connected && now - this.lastMessageAt > WATCHDOG_MS) {
      this.drop(`no message for ${WATCHDOG_MS / 1000} s: reconnecting`);
    }
    this.probeDue = !this.probeDue;
    if (this.probeDue) this.probe();
    this.onStats();
  }
}
