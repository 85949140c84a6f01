// TCP_NODELAY moves to the listening socket on Linux (each accepted socket inherits it), and the
// server stops setting it per connection; requests are answered as before.
import t from 'tap';
import Fastify from 'fastify';
import { request } from 'undici';
import { noDelayFromListener } from '../../shared/http/no-delay.ts';

t.test('set once on the listener; the per-connection call is off; answers as before', async (t) => {
  const app = Fastify();
  app.get('/', async () => ({ ok: true }));
  t.teardown(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const server = app.server as unknown as { noDelay: boolean };
  t.equal(server.noDelay, true, "Node's default: a setsockopt per connection");
  const moved = noDelayFromListener(app.server);
  t.equal(moved, process.platform === 'linux', 'moved on Linux, where accepted sockets inherit it');
  t.equal(server.noDelay, !moved, 'no per-connection call once the listener has it');
  for (let i = 0; i < 3; i++) {
    const res = await request(url, { reset: true });
    t.same(await res.body.json(), { ok: true }, `request ${i + 1} on a new connection answered`);
  }
});

t.test('a server that is not listening keeps the per-connection call', async (t) => {
  const app = Fastify();
  t.teardown(() => app.close());
  await app.ready();
  t.equal(noDelayFromListener(app.server), false);
  t.equal((app.server as unknown as { noDelay: boolean }).noDelay, true);
});
