// The GraphQL schema users build clients from: the committed one (docs/graphql/schema.graphql) and
// the resolvers' generated types are what the code serves, the schema is valid, and it lints:
// every operation and every argument of a list says what it is.
import fs from 'node:fs/promises';
import { buildSchema, validateSchema, type GraphQLObjectType } from 'graphql';
import t from 'tap';
import { GRAPHQL_SCHEMA_FILE, GRAPHQL_TYPES_FILE, graphqlResolverTypes, graphqlSchemaText } from '../../tools/graphql-documents.ts';
import { SDL } from '../../router/src/graphql/schema.ts';

t.test('docs/graphql/schema.graphql and the resolver types are current (npm run openapi writes them)', async (t) => {
  t.equal(await fs.readFile(GRAPHQL_SCHEMA_FILE, 'utf8'), graphqlSchemaText());
  t.equal(await fs.readFile(GRAPHQL_TYPES_FILE, 'utf8'), await graphqlResolverTypes());
});

t.test('the schema is valid and every operation is described', async (t) => {
  const schema = buildSchema(SDL);
  t.same(validateSchema(schema).map((e) => e.message), []);
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()] as GraphQLObjectType[]) {
    const undescribed = Object.values(root.getFields()).filter((f) => !f.description);
    t.same(undescribed.map((f) => `${root.name}.${f.name}`), [], `${root.name}: every field described`);
  }
  const names = Object.keys(schema.getTypeMap()).filter((n) => !n.startsWith('__'));
  t.same(names.filter((n) => !/^[A-Z][A-Za-z]*$/.test(n)), [], 'types in PascalCase');
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !('getFields' in type)) continue;
    const bad = Object.keys((type as GraphQLObjectType).getFields()).filter((f) => !/^[a-z][A-Za-z0-9]*$/.test(f));
    t.same(bad, [], `${type.name}: fields in camelCase`);
  }
});
