// npm run openapi: writes the router's and the service's OpenAPI documents to docs/openapi/ and
// the router client's types to clients/router-api.ts, from the apps' own route schemas. A test
// fails when a committed file differs from what the code documents.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DOCUMENTS_DIR, routerClientTypes, routerDocument, serviceDocument, ROUTER_CLIENT_TYPES } from './openapi-documents.ts';

const json = (document: unknown) => `${JSON.stringify(document, null, 2)}\n`;

await fs.mkdir(DOCUMENTS_DIR, { recursive: true });
const router = await routerDocument();
await fs.writeFile(path.join(DOCUMENTS_DIR, 'router.json'), json(router));
await fs.writeFile(path.join(DOCUMENTS_DIR, 'inference-service.json'), json(await serviceDocument()));
await fs.writeFile(ROUTER_CLIENT_TYPES, await routerClientTypes(router));
console.log(`wrote ${path.relative(process.cwd(), DOCUMENTS_DIR)}/router.json, inference-service.json and ${path.relative(process.cwd(), ROUTER_CLIENT_TYPES)}`);
