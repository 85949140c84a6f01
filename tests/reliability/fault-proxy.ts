// A fault-injecting TCP proxy between the router and one replica (this kernel has no netem):
// pass, delay (each answer held back), reset (connections torn down mid-request) or blackhole
// (bytes accepted and never answered). The mode can change while traffic flows.
import net from 'node:net';

export type FaultMode = { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'reset'; probability: number } | { kind: 'blackhole' };

export class FaultProxy {
  mode: FaultMode = { kind: 'pass' };
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  static async start(targetUrl: string): Promise<FaultProxy> {
    const u = new URL(targetUrl);
    const proxy = new FaultProxy({ host: u.hostname, port: Number(u.port) });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: net.Socket) {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
  }

  private accept(client: net.Socket): void {
    this.track(client);
    const upstream = net.connect(this.target);
    this.track(upstream);
    client.on('data', (chunk) => {
      const mode = this.mode;
      if (mode.kind === 'blackhole') return;
      if (mode.kind === 'reset' && Math.random() < mode.probability) {
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      const mode = this.mode;
      if (mode.kind === 'blackhole') return;
      if (mode.kind === 'delay') setTimeout(() => client.writable && client.write(chunk), mode.ms);
      else client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
