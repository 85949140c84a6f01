// Who may use /admin and /dashboard: the admin token for everything, the read-only token for GET,
// either as a bearer token or as a Basic password (the browser's login prompt).
import t from 'tap';
import { ADMIN_TOKEN, buildRouter, weightsFile } from '../../helpers/router.ts';

const READ_TOKEN = 'read-only-token-0123456789';
const basic = (password: string, user = 'anyone') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

t.test('admin and read-only access', async (t) => {
  const app = await buildRouter(t, await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n'), { readToken: READ_TOKEN });
  const call = (method: 'GET' | 'PUT', url: string, authorization?: string) =>
    app.inject({ method, url, headers: authorization ? { authorization } : {}, ...(method === 'PUT' ? { payload: { weights: { blue: 2 } } } : {}) });

  const none = await call('GET', '/admin/config');
  t.equal(none.statusCode, 401);
  t.same(none.headers['www-authenticate'], ['Basic realm="sentiment-router", charset="UTF-8"', 'Bearer realm="sentiment-router"'], 'a Basic challenge a browser answers, and the Bearer one');
  t.equal(none.json().code, 'ERR_UNAUTHORIZED');

  t.equal((await call('GET', '/admin/config', `Bearer ${ADMIN_TOKEN}`)).statusCode, 200, 'admin bearer');
  t.equal((await call('GET', '/admin/config', basic(ADMIN_TOKEN))).statusCode, 200, 'admin as a Basic password, any user name');
  t.equal((await call('PUT', '/admin/weights', basic(ADMIN_TOKEN))).statusCode, 200, 'admin may change things');
  t.equal((await call('GET', '/admin/stats', `Bearer ${READ_TOKEN}`)).statusCode, 200, 'read-only token reads');
  t.equal((await call('GET', '/dashboard', basic(READ_TOKEN))).statusCode, 200, 'read-only token opens the dashboard');

  const write = await call('PUT', '/admin/weights', `Bearer ${READ_TOKEN}`);
  t.equal(write.statusCode, 403, 'read-only token changes nothing');
  t.equal(write.json().code, 'ERR_READ_ONLY_TOKEN');
  t.match(write.json().message, /PUT \/admin\/weights/);
  t.equal((await call('GET', '/admin/config', basic('wrong-token-0123456789'))).statusCode, 401, 'a wrong password');
  t.equal((await call('GET', '/admin/config', 'Basic !!!')).statusCode, 401, 'a malformed Basic header is a 401, not a 500');
  t.equal((await call('GET', '/admin/config', `Basic ${Buffer.from('no-colon').toString('base64')}`)).statusCode, 401);
});

t.test('without a read-only token configured, only the admin token works', async (t) => {
  const app = await buildRouter(t, await weightsFile(t, 'environments:\n  blue: { weight: 1 }\n'));
  t.equal((await app.inject({ url: '/admin/config', headers: { authorization: `Bearer ${READ_TOKEN}` } })).statusCode, 401);
  const page = await app.inject({ url: '/dashboard', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(String(page.headers['content-security-policy']), /script-src 'sha256-/, 'only its own script may run');
  t.match(page.body, /<title>Sentiment router/);
});
