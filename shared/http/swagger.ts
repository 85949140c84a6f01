// OpenAPI 3 from the routes' TypeBox schemas, with Swagger UI at /docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { ErrorResponse } from './schemas.ts';

export async function registerSwagger(app: FastifyInstance, info: { title: string; version: string; description: string }, bearerAuth = false): Promise<void> {
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info,
      components: bearerAuth ? { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } } : {},
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string) ?? `def-${i}` },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
