// The project's errors (an HTTP status and an ERR_* code) as gRPC status codes, the way the Open
// Inference Protocol's servers map them: the message goes in the status details and the code in
// the `error-code` trailer, so a gRPC client can match on the same codes a REST client does.
import * as grpc from '@grpc/grpc-js';
import { isOwnError } from '../errors.ts';

const BY_HTTP_STATUS: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  409: grpc.status.FAILED_PRECONDITION,
  413: grpc.status.RESOURCE_EXHAUSTED,
  429: grpc.status.RESOURCE_EXHAUSTED,
  502: grpc.status.UNAVAILABLE,
  503: grpc.status.UNAVAILABLE,
  504: grpc.status.DEADLINE_EXCEEDED,
};

export const grpcCodeOf = (httpStatus: number): grpc.status => BY_HTTP_STATUS[httpStatus] ?? (httpStatus >= 500 ? grpc.status.INTERNAL : grpc.status.UNKNOWN);

export interface GrpcError extends Partial<grpc.ServiceError> {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

export function grpcError(httpStatus: number, code: string | undefined, message: string): GrpcError {
  const metadata = new grpc.Metadata();
  if (code) metadata.set('error-code', code);
  return { code: grpcCodeOf(httpStatus), details: message, metadata };
}

/** Any thrown error as a gRPC status: the project's own with their message; others as INTERNAL. */
export function toGrpcError(err: unknown): GrpcError {
  if (isOwnError(err)) return grpcError(err.statusCode, err.code, err.message);
  return grpcError(500, undefined, 'internal error');
}
