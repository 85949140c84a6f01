// The ceiling for this machine: a bare Fastify endpoint that parses the same JSON body and returns
// a constant prediction, with no tokenizer and no model.
import Fastify, { LogController } from 'fastify';

// Request logging is off, as in the service.
const app = Fastify({ logger: { level: 'info' }, logController: new LogController({ disableRequestLogging: true }) });
const constant = { text: '', sentiment: 'positive', confidence: 0.9, probabilities: { negative: 0.05, neutral: 0.05, positive: 0.9 }, model_version: 'bare', latency_ms: 0 };
app.post<{ Body: { text: string } }>('/predict', async (request) => ({ ...constant, text: request.body.text }));
// Ready at once, so it can also stand behind a proxy as an upstream whose cost is near zero.
app.get('/health/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
