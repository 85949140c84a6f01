// Upstream failures → gateway statuses, by undici's error codes (never by message).
export interface UpstreamFailure {
  status: 502 | 503 | 504;
  error: string;
  /** The request never reached a replica's handler, so sending it elsewhere is safe. */
  retryable: boolean;
}

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

export function mapUpstreamError(err: unknown): UpstreamFailure {
  const code = (err as NodeJS.ErrnoException).code ?? (err as { cause?: NodeJS.ErrnoException }).cause?.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || (err as Error).name === 'TimeoutError' || code === 'UND_ERR_ABORTED') {
    return { status: 504, error: 'upstream_timeout', retryable: false };
  }
  if (CONNECT_ERRORS.has(code)) return { status: 502, error: 'upstream_unreachable', retryable: true };
  return { status: 502, error: 'bad_gateway', retryable: false };
}
