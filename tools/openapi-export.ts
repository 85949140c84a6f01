// npm run openapi: writes the router's and the service's OpenAPI documents to docs/openapi/, the
// router client's types to clients/router-api.ts, the README's endpoint and settings tables, and
// the GraphQL schema (docs/graphql/) with its resolvers' types,
// from the apps' own route and config schemas. A test fails when a committed file differs from
// what the code documents.
import fs from 'node:fs/promises';
import path from 'node:path';
import { GRAPHQL_SCHEMA_FILE, GRAPHQL_TYPES_FILE, graphqlResolverTypes, graphqlSchemaText } from './graphql-documents.ts';
import { DOCUMENTS_DIR, README, readmeWithTables, routerClientTypes, routerDocument, serviceDocument, ROUTER_CLIENT_TYPES } from './openapi-documents.ts';

const json = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;

await fs.mkdir(DOCUMENTS_DIR, { recursive: true });
const router = await routerDocument();
await fs.writeFile(path.join(DOCUMENTS_DIR, 'router.json'), json(router));
const service = await serviceDocument();
await fs.writeFile(path.join(DOCUMENTS_DIR, 'inference-service.json'), json(service));
await fs.writeFile(ROUTER_CLIENT_TYPES, await routerClientTypes(router));
await fs.writeFile(README, await readmeWithTables(router, service));
await fs.mkdir(path.dirname(GRAPHQL_SCHEMA_FILE), { recursive: true });
await fs.writeFile(GRAPHQL_SCHEMA_FILE, graphqlSchemaText());
await fs.writeFile(GRAPHQL_TYPES_FILE, await graphqlResolverTypes());
console.log(`wrote ${path.relative(process.cwd(), DOCUMENTS_DIR)}/router.json, inference-service.json, ${path.relative(process.cwd(), ROUTER_CLIENT_TYPES)}, README.md's tables, ${path.relative(process.cwd(), GRAPHQL_SCHEMA_FILE)} and ${path.relative(process.cwd(), GRAPHQL_TYPES_FILE)}`);
