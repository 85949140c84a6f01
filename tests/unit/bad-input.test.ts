// Every client mistake gets a 4xx with { error, message }, never a 5xx.
import t from 'tap';
import { buildApp } from '../helpers/build-app.ts';

interface Case {
  name: string;
  url?: string;
  payload?: string | object;
  contentType?: string;
  status: number;
  message?: RegExp;
}

const cases: Case[] = [
  { name: 'invalid JSON', payload: '{"text": "good"', status: 400 },
  { name: 'empty body with JSON content type', payload: '', status: 400 },
  { name: 'missing text', payload: {}, status: 400, message: /text/ },
  { name: 'text is a number', payload: { text: 42 }, status: 400, message: /text.*string/ },
  { name: 'text is null', payload: { text: null }, status: 400, message: /text/ },
  { name: 'text is an array', payload: { text: ['good'] }, status: 400, message: /text/ },
  { name: 'empty text', payload: { text: '' }, status: 400, message: /text/ },
  { name: 'whitespace-only text', payload: { text: ' \t\n ' }, status: 400, message: /non-whitespace/ },
  { name: 'extra field', payload: { text: 'good', mode: 'fast' }, status: 400, message: /additional/ },
  { name: 'body is an array', payload: '[1,2]', status: 400 },
  { name: 'text over the length cap', payload: { text: 'a'.repeat(1001) }, status: 400, message: /1000/ },
  { name: 'body over the size limit', payload: { text: 'a'.repeat(2_000_000) }, status: 413 },
  { name: 'wrong content type', payload: 'text=good', contentType: 'application/x-www-form-urlencoded', status: 415 },
  { name: 'text/plain content type', payload: 'good', contentType: 'text/plain', status: 415 },
  { name: 'batch: texts missing', url: '/predict/batch', payload: { text: 'good' }, status: 400, message: /texts/ },
  { name: 'batch: empty list', url: '/predict/batch', payload: { texts: [] }, status: 400, message: /texts/ },
  { name: 'batch: over the batch cap', url: '/predict/batch', payload: { texts: Array(17).fill('good') }, status: 400, message: /16/ },
  { name: 'batch: a non-string item', url: '/predict/batch', payload: { texts: ['good', 3] }, status: 400, message: /texts/ },
  { name: 'batch: a blank item', url: '/predict/batch', payload: { texts: ['good', '  '] }, status: 400, message: /non-whitespace/ },
  { name: 'batch: texts is a string', url: '/predict/batch', payload: { texts: 'good' }, status: 400, message: /texts/ },
];

t.test('bad input', async (t) => {
  const app = await buildApp(t);
  for (const c of cases) {
    const payload = typeof c.payload === 'string' ? c.payload : JSON.stringify(c.payload);
    const res = await app.inject({
      method: 'POST',
      url: c.url ?? '/predict',
      headers: { 'content-type': c.contentType ?? 'application/json' },
      payload,
    });
    t.equal(res.statusCode, c.status, `${c.name}: status`);
    const body = res.json();
    t.type(body.error, 'string', `${c.name}: error field`);
    t.type(body.message, 'string', `${c.name}: message field`);
    if (c.message) t.match(body.message, c.message, `${c.name}: message says what is wrong`);
  }
});

t.test('a request without a body names the problem', async (t) => {
  const app = await buildApp(t);
  const res = await app.inject({ method: 'POST', url: '/predict' });
  t.equal(res.statusCode, 400);
  t.match(res.json().message, /body/);
});

t.test('unknown routes and methods get a JSON 404', async (t) => {
  const app = await buildApp(t);
  const res = await app.inject({ method: 'GET', url: '/predict' });
  t.equal(res.statusCode, 404);
  t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message']);
});
