import http from 'node:http';
import net from 'node:net';

/**
 * A small TCP load balancer for running a Parley cluster on one machine (`npm run cluster`). Each incoming TCP
 * connection goes to the next node, round robin, among those whose `/ready` answers 200. Balancing is per connection,
 * so plain HTTP and WebSocket upgrades both pass through untouched, and no stickiness is needed: Parley's nodes are
 * stateless, and a client that lands on another node after a reconnect resumes from its last sequence.
 *
 * It is a development tool, not a production proxy (see docs/deployment.md for nginx and HAProxy).
 */

export interface Backend {
  /** Shown in logs and in `status()`. */
  name: string;
  host: string;
  port: number;
}

export interface BackendStatus extends Backend {
  ready: boolean;
  /** Connections handed to this backend so far. */
  connections: number;
}

export interface BalancerOptions {
  backends: Backend[];
  /** Where to listen. Default 127.0.0.1, port 0 (any free port). */
  host?: string;
  port?: number;
  /** How often each backend's readiness is checked. Default 1 s. */
  checkIntervalMs?: number;
  /** Readiness check; default: `GET http://host:port/ready` answers 200 within one second. */
  isReady?: (backend: Backend) => Promise<boolean>;
  /** Called when a backend becomes ready or not ready. */
  onChange?: (backend: Backend, ready: boolean) => void;
}

export interface Balancer {
  /** `host:port` the balancer listens on. */
  readonly host: string;
  readonly port: number;
  /** Each backend with its last known readiness. */
  status(): BackendStatus[];
  /** Runs the readiness checks now (they also run on a timer). */
  check(): Promise<void>;
  /** Stops listening and cuts every connection it carries. */
  close(): Promise<void>;
}

/** `GET /ready` answers 200 within `timeoutMs`. */
export function httpReady(backend: Backend, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: backend.host, port: backend.port, path: '/ready', timeout: timeoutMs, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(false));
  });
}

/** Starts the balancer; its first readiness check has run when the promise resolves. */
export async function startBalancer(options: BalancerOptions): Promise<Balancer> {
  if (options.backends.length === 0) throw new Error('the balancer needs at least one backend');
  const isReady = options.isReady ?? ((backend: Backend) => httpReady(backend));
  const states: BackendStatus[] = options.backends.map((backend) => ({ ...backend, ready: false, connections: 0 }));
  const sockets = new Set<net.Socket>();
  let next = 0;
  let closed = false;

  const setReady = (state: BackendStatus, ready: boolean) => {
    if (state.ready === ready) return;
    state.ready = ready;
    options.onChange?.(state, ready);
  };

  let checking: Promise<void> | undefined;
  const check = (): Promise<void> => {
    checking ??= Promise.all(states.map(async (state) => setReady(state, await isReady(state).catch(() => false)))).then(() => {
      checking = undefined;
    });
    return checking;
  };

  /** The next ready backend after the last one used, skipping `tried`; undefined when none is left. */
  const pick = (tried: Set<BackendStatus>): BackendStatus | undefined => {
    for (let i = 0; i < states.length; i++) {
      const state = states[(next + i) % states.length];
      if (state?.ready && !tried.has(state)) {
        next = (next + i + 1) % states.length;
        return state;
      }
    }
    return undefined;
  };

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  /** Connects the client to a ready backend; a backend that refuses is marked not ready and the next one is tried. */
  const forward = (client: net.Socket, tried: Set<BackendStatus>) => {
    const backend = pick(tried);
    if (!backend) {
      client.destroy();
      return;
    }
    tried.add(backend);
    const upstream = net.connect({ host: backend.host, port: backend.port });
    track(upstream);
    const onConnectError = () => {
      upstream.destroy();
      setReady(backend, false);
      if (!client.destroyed) forward(client, tried);
    };
    upstream.once('error', onConnectError);
    upstream.once('connect', () => {
      upstream.off('error', onConnectError);
      backend.connections++;
      upstream.setNoDelay(true);
      // Either side closing or failing ends the pair; the bytes in between are passed on as they are.
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('error', end);
      client.on('error', end);
      upstream.once('close', end);
      client.once('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  };

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    track(client);
    client.setNoDelay(true);
    client.on('error', () => client.destroy());
    if (closed) {
      client.destroy();
      return;
    }
    forward(client, new Set());
  });

  await check();
  const timer = setInterval(() => void check(), options.checkIntervalMs ?? 1_000);
  timer.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;

  return {
    host: address.address,
    port: address.port,
    status: () => states.map((state) => ({ ...state })),
    check,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}
