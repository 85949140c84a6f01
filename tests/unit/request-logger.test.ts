// request.log is made when a request first logs: lines still carry the request id, levels still
// filter, and a request that never logs never makes a pino child.
import { Writable } from 'node:stream';
import Fastify, { LogController } from 'fastify';
import pino from 'pino';
import t from 'tap';
import { RequestLogger, requestLoggerFactory } from '../../shared/http/request-logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

t.test('a line written through it is the pino child’s: bindings, level, message', async (t) => {
  const { lines, stream } = capture();
  let children = 0;
  const parent = pino({ level: 'info', onChild: () => children++ }, stream);
  const log = new RequestLogger(parent, { request_id: 'r-1' }, {});
  t.equal(log.level, 'info', 'the parent’s level, before any child exists');
  log.debug('not written');
  t.equal(children, 1, 'the first call makes the child');
  log.info({ environment: 'blue' }, 'hello %s', 'there');
  log.warn('careful');
  t.equal(children, 1, 'once');
  t.match(lines, [
    { level: 30, request_id: 'r-1', environment: 'blue', msg: 'hello there' },
    { level: 40, request_id: 'r-1', msg: 'careful' },
  ]);
  log.level = 'debug';
  log.debug('now written');
  t.equal(lines.at(-1)?.msg, 'now written', 'a level set on it applies to it');
  log.child({ step: 2 }).error('nested');
  t.match(lines.at(-1), { level: 50, request_id: 'r-1', step: 2, msg: 'nested' });
  t.equal(children, 2, 'the nested child and the request’s own');
});

t.test('as fastify’s childLoggerFactory: no child for a request that does not log, request_id on one that does', async (t) => {
  const { lines, stream } = capture();
  let children = 0;
  const parent = pino({ level: 'info', onChild: () => children++ }, stream);
  // As shared/http/server-options.ts sets them up.
  const app = Fastify({ loggerInstance: parent, childLoggerFactory: requestLoggerFactory, logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }), genReqId: () => 'req-7' });
  app.get('/quiet', async () => ({ ok: true }));
  app.get('/chatty', async (request) => {
    request.log.info('handled');
    return { ok: true };
  });
  t.teardown(() => app.close());
  const before = children;
  t.equal((await app.inject('/quiet')).statusCode, 200);
  t.equal(children, before, 'no child made');
  t.equal((await app.inject('/chatty')).statusCode, 200);
  t.equal(children, before + 1);
  t.match(lines.at(-1), { request_id: 'req-7', msg: 'handled' });
});
