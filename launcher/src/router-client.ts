// The controller's side of the router's admin API: register and deregister replicas, ask whether
// the router routes to one yet, and report deployments and the model registry.
import { request } from 'undici';
import { DEPLOYMENTS_PATH, MODELS_PATH, REPLICAS_PATH, type DeploymentStatus, type ModelRegistryView } from '../../shared/api/deployments.ts';

const TIMEOUTS = { headersTimeout: 5000, bodyTimeout: 5000 };

export class RouterClient {
  constructor(
    /** The router's address, once it listens. */
    private readonly base: () => string | undefined,
    private readonly token: string,
  ) {}

  private async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const base = this.base();
    if (!base) throw new Error('the router is not listening');
    const res = await request(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      ...TIMEOUTS,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? (JSON.parse(text) as unknown) : null };
  }

  private async expect(method: 'POST' | 'PUT' | 'DELETE', path: string, body: unknown, ok: (status: number) => boolean): Promise<void> {
    const res = await this.call(method, path, body);
    if (!ok(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  register(environment: string, url: string): Promise<void> {
    // Already registered (the router kept it) is as good as registered.
    return this.expect('POST', REPLICAS_PATH, { environment, url }, (s) => s === 201 || s === 409);
  }

  deregister(environment: string, url: string): Promise<void> {
    // Not registered (a restarted router) is as good as deregistered.
    return this.expect('DELETE', REPLICAS_PATH, { environment, url }, (s) => s === 200 || s === 404);
  }

  /** Does the router route to this replica now (registered, checked, identified, not ejected)? */
  async routesTo(url: string): Promise<boolean> {
    const res = await this.call('GET', REPLICAS_PATH);
    return res.status === 200 && (res.body as { url: string; available: boolean }[]).some((r) => r.url === url && r.available);
  }

  reportDeployments(status: DeploymentStatus): Promise<void> {
    return this.expect('PUT', DEPLOYMENTS_PATH, status, (s) => s === 204);
  }

  reportModels(view: ModelRegistryView): Promise<void> {
    return this.expect('PUT', MODELS_PATH, view, (s) => s === 204);
  }
}
