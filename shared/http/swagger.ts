// OpenAPI 3 from the routes' TypeBox schemas, with Swagger UI at /docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ErrorBody } from './schemas.ts';

export interface DocumentOptions {
  info: { title: string; version: string; description: string };
  /** Where the default configuration listens; a client overrides the base URL. */
  servers: { url: string; description: string }[];
  securitySchemes?: Record<string, { type: 'http'; scheme: string; description: string } | { type: 'apiKey'; in: 'header'; name: string; description: string }>;
  /** Requirements of every operation that names none itself; [] is a public API. */
  security?: Record<string, string[]>[];
}

export async function registerSwagger(app: FastifyInstance, options: DocumentOptions): Promise<void> {
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { ...options.info, license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' } },
      servers: options.servers,
      components: options.securitySchemes ? { securitySchemes: options.securitySchemes } : {},
      ...(options.security ? { security: options.security } : {}),
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string) ?? `def-${i}` },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
