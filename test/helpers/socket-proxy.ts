/**
 * Fault injection in front of the real Docker engine.
 *
 * The proxy listens on a unix socket of its own and copies every connection byte for byte to
 * the engine, so the code under test talks to the real engine and sees real answers. What the
 * proxy adds is the faults: `cutConnections()` ends chosen connections (a logs stream that stops
 * while its container still runs), `stop()` makes the socket go away (the engine "restarts"),
 * and `start()` brings it back on the same path.
 */
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineAddress, unixSocketPath } from '../../scripts/services/lib/engine.js';

export type Upstream = { path: string } | { host: string; port: number };

interface Proxied {
  client: net.Socket;
  engine: net.Socket;
  /** The request line of the latest request on this connection ("GET /v1.41/containers/.../logs?... HTTP/1.1"). */
  requestLine: string;
}

const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r?\n/;

/** Where the real engine listens: DOCKER_HOST's unix socket or tcp address, else the default socket. */
export function engineUpstream(): Upstream {
  const address = engineAddress();
  const path = unixSocketPath(address);
  if (path) return { path };
  const url = new URL(address.dockerHost.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

export class DockerSocketProxy {
  private server: net.Server | undefined;
  private readonly open = new Set<Proxied>();
  /** Every request line seen, oldest first, for assertions on what the client asked. */
  readonly requests: string[] = [];
  private closed = false;

  private constructor(
    /** The proxy's socket: point the code under test at `unix://<path>` (see `dockerHost`). */
    readonly path: string,
    private readonly dir: string,
    private readonly upstream: Upstream,
  ) {}

  /** A proxy on a fresh socket in a temp dir, forwarding to `upstream` (default: the real engine). */
  static async create(upstream: Upstream = engineUpstream()): Promise<DockerSocketProxy> {
    const dir = await mkdtemp(join(tmpdir(), 'lwtest-proxy-'));
    const proxy = new DockerSocketProxy(join(dir, 'docker.sock'), dir, upstream);
    await proxy.start();
    return proxy;
  }

  get dockerHost(): string {
    return `unix://${this.path}`;
  }

  /** The request lines of the connections open now. */
  activeRequests(): string[] {
    return [...this.open].map((c) => c.requestLine);
  }

  /** Listens (again) on the same path. */
  async start(): Promise<void> {
    if (this.closed) throw new Error('socket proxy: start() after close()');
    if (this.server) return;
    await unlink(this.path).catch(() => {});
    // Half-open, so a client that ends its side after sending (attach, exec) still gets the answer.
    const server = net.createServer({ allowHalfOpen: true }, (client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  /**
   * Destroys the open connections whose latest request line matches (all by default), as an
   * engine restart or a network fault would; the engine side sees its client go away. Returns
   * how many were cut.
   */
  cutConnections(filter: (requestLine: string) => boolean = () => true): number {
    let cut = 0;
    for (const c of [...this.open]) {
      if (!filter(c.requestLine)) continue;
      c.client.destroy();
      c.engine.destroy();
      this.open.delete(c);
      cut++;
    }
    return cut;
  }

  /** The socket goes away: stops listening, cuts every connection and removes the socket file. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.cutConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.path).catch(() => {});
  }

  /** `stop()` and remove the temp dir; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    await rm(this.dir, { recursive: true, force: true });
  }

  private forward(client: net.Socket): void {
    const engine = net.connect({ ...this.upstream, allowHalfOpen: true });
    const c: Proxied = { client, engine, requestLine: '' };
    this.open.add(c);
    client.on('data', (chunk: Buffer) => {
      // A keep-alive connection carries several requests; a new one starts at the start of a
      // write. Looking only there is enough for a test proxy and never parses a body.
      const head = chunk.subarray(0, 2048).toString('latin1');
      const m = REQUEST_LINE.exec(head);
      if (m) {
        c.requestLine = m[0].trimEnd();
        this.requests.push(c.requestLine);
      }
    });
    client.pipe(engine);
    engine.pipe(client);
    const end = () => {
      this.open.delete(c);
      client.destroy();
      engine.destroy();
    };
    client.once('close', end);
    engine.once('close', end);
    // Errors (ECONNRESET when a side is cut) end the pair through 'close'.
    client.on('error', () => {});
    engine.on('error', () => {});
  }
}
