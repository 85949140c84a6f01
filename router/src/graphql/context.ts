// What every resolver gets: the app's services (the same ones the REST admin API uses), and who
// is asking (the admin or read-only token, or neither), with the request's headers and address for
// the data path's rules (API keys, rate limit, stickiness).
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { PubSub } from 'mercurius';
import type { Access } from '../auth.ts';
import type { Environment } from './types.generated.ts';

export interface GraphQLContext {
  app: FastifyInstance;
  access: Access | null;
  headers: IncomingHttpHeaders;
  ip: string;
  pubsub: PubSub;
}

/** An environment as its resolver answers it: its stats are resolved per field, for the window asked. */
export type EnvironmentParent = Omit<Environment, 'stats'>;
