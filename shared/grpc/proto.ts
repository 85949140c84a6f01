// The Open Inference Protocol's gRPC service definition (inference.proto beside this file), loaded
// once with @grpc/proto-loader, and the message shapes it yields: field names as in the .proto,
// int64 as numbers, bytes as Buffers, absent fields at their defaults.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ModelRef } from '../api/v2.ts';
import { PACKAGE } from '../package-info.ts';

export const PROTO_FILE = path.join(PACKAGE.root, 'shared/grpc/inference.proto');

const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

/** The client constructor (and `.service` definition) of inference.GRPCInferenceService in a .proto. */
export function loadInferenceService(file = PROTO_FILE): grpc.ServiceClientConstructor {
  const definition = grpc.loadPackageDefinition(protoLoader.loadSync(file, LOADER_OPTIONS)) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  return definition.inference.GRPCInferenceService;
}

export type InferParameter = { parameter_choice?: string; bool_param?: boolean; int64_param?: number; string_param?: string; double_param?: number; uint64_param?: number };

export interface InferTensorContents {
  bytes_contents?: Buffer[];
  fp32_contents?: number[];
  [kind: string]: unknown[] | undefined;
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, InferParameter>;
  contents?: InferTensorContents | null;
}

export interface ModelInferRequest {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameter>;
  inputs: InferInputTensor[];
  outputs?: { name: string; parameters?: Record<string, InferParameter> }[];
  raw_input_contents?: Buffer[];
}

export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: InferTensorContents;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferOutputTensor[];
  raw_output_contents: Buffer[];
}

/** A ModelReady/ModelMetadata request: the protocol's empty version means "whichever is served". */
export interface ModelRequest {
  name: string;
  version?: string;
}

export const requestedModel = (r: ModelRequest): ModelRef => ({ name: r.name, version: r.version || undefined });
