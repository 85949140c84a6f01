// The KServe Open Inference Protocol v2 subset: a BYTES input named "text".
import { Type, type Static } from '@sinclair/typebox';
import { PACKAGE } from '../package-info.ts';

export const ModelParams = Type.Object({ name: Type.String({ maxLength: 200 }) });
/** A model named by a client, with the version it asks for, if any. */
export interface ModelRef {
  name: string;
  version?: string;
}
export const VersionedModelParams = Type.Object({ name: Type.String({ maxLength: 200 }), version: Type.String({ maxLength: 100 }) });

export const ServerMetadataResponse = Type.Object({ name: Type.String(), version: Type.String(), extensions: Type.Array(Type.String()) });
export const LiveResponse = Type.Object({ live: Type.Boolean() });
export const ReadyResponse = Type.Object({ ready: Type.Boolean() });

/** What a server of this project (a replica or the router) says of itself at GET /v2. */
export const serverMetadata = () => ({ name: PACKAGE.name, version: PACKAGE.version, extensions: [] as string[] });

export const TensorMetadata = Type.Object({
  name: Type.String(),
  datatype: Type.String(),
  shape: Type.Array(Type.Integer()),
});

export const ModelMetadataResponse = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(TensorMetadata),
  outputs: Type.Array(TensorMetadata),
});

export const inferBody = (limits: { textLength: number; batchTexts: number }) =>
  Type.Object(
    {
      id: Type.Optional(Type.String({ maxLength: 128 })),
      parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      inputs: Type.Array(
        Type.Object(
          {
            name: Type.String(),
            shape: Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, maxItems: 2 }),
            datatype: Type.Literal('BYTES'),
            parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
            // Flat, or nested as the shape is (row-major): [[t1, t2]] for shape [1, 2].
            data: Type.Array(Type.Union([Type.String({ maxLength: limits.textLength }), Type.Array(Type.String({ maxLength: limits.textLength }), { maxItems: limits.batchTexts })]), { minItems: 1, maxItems: limits.batchTexts }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 1 },
      ),
      outputs: Type.Optional(Type.Array(Type.Object({ name: Type.String(), parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }))),
    },
    { additionalProperties: false },
  );
export type InferBody = Static<ReturnType<typeof inferBody>>;

export const InferResponse = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.Optional(Type.String()),
  outputs: Type.Array(
    Type.Object({
      name: Type.String(),
      datatype: Type.String(),
      shape: Type.Array(Type.Integer()),
      data: Type.Array(Type.Union([Type.String(), Type.Number()])),
    }),
  ),
});
