// The controller's side of the router's admin API, through the generated client: register and
// deregister replicas, ask whether the router routes to one yet, and report deployments and the
// model registry.
import { routerClient } from '../../clients/router.ts';
import type { DeploymentStatus, ModelRegistryView } from '../../shared/api/deployments.ts';

/** Every call gives up after this long: the controller retries on its next pass. */
const TIMEOUT_MS = 5000;

export class RouterClient {
  private client: ReturnType<typeof routerClient> | undefined;
  private clientBase: string | undefined;

  constructor(
    /** The router's address, once it listens (a restarted router may listen elsewhere). */
    private readonly base: () => string | undefined,
    private readonly token: string,
  ) {}

  /** The generated client (clients/router.ts) for the router's address now. */
  private router() {
    const base = this.base();
    if (!base) throw new Error('the router is not listening');
    if (base !== this.clientBase) {
      this.client = routerClient(base, { adminToken: this.token });
      this.clientBase = base;
    }
    return this.client!;
  }

  private static check(what: string, res: { response: Response; error?: unknown }, ok: (status: number) => boolean): void {
    if (!ok(res.response.status)) throw new Error(`${what} answered ${res.response.status}: ${JSON.stringify(res.error ?? null)}`);
  }

  async register(environment: string, url: string): Promise<void> {
    const res = await this.router().POST('/admin/replicas', { body: { environment, url }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    // Already registered (the router kept it) is as good as registered.
    RouterClient.check('POST /admin/replicas', res, (s) => s === 201 || s === 409);
  }

  async deregister(environment: string, url: string): Promise<void> {
    const res = await this.router().DELETE('/admin/replicas', { body: { environment, url }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    // Not registered (a restarted router) is as good as deregistered.
    RouterClient.check('DELETE /admin/replicas', res, (s) => s === 200 || s === 404);
  }

  /** Does the router route to this replica now (registered, checked, identified, not ejected)? */
  async routesTo(url: string): Promise<boolean> {
    const { data } = await this.router().GET('/admin/replicas', { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return data !== undefined && data.some((r) => r.url === url && r.available);
  }

  async reportDeployments(status: DeploymentStatus): Promise<void> {
    const res = await this.router().PUT('/admin/deployments', { body: status, signal: AbortSignal.timeout(TIMEOUT_MS) });
    RouterClient.check('PUT /admin/deployments', res, (s) => s === 204);
  }

  async reportModels(view: ModelRegistryView): Promise<void> {
    const res = await this.router().PUT('/admin/models', { body: view, signal: AbortSignal.timeout(TIMEOUT_MS) });
    RouterClient.check('PUT /admin/models', res, (s) => s === 204);
  }
}

/** The router API the controller speaks: one router's, or every router's at once. */
export type RouterApi = Pick<RouterClient, 'register' | 'deregister' | 'routesTo' | 'reportDeployments' | 'reportModels'>;

/**
 * Several routers as one: each holds its own replica registry and reports, so a replica is
 * registered with (and removed from) every router that listens, and is in rotation once every one
 * of them routes to it. A router that is not listening (restarting) is skipped: it is told
 * everything again once it is ready.
 */
export class RouterFanout implements RouterApi {
  /** Replicas registered through it (url → environment), to register again where one is missing. */
  private readonly wanted = new Map<string, string>();

  constructor(private readonly routers: { client: RouterClient; listening: () => boolean }[]) {}

  private async each(call: (client: RouterClient) => Promise<void>): Promise<void> {
    await Promise.all(this.routers.filter((r) => r.listening()).map((r) => call(r.client)));
  }

  register(environment: string, url: string): Promise<void> {
    this.wanted.set(url, environment);
    return this.each((c) => c.register(environment, url));
  }

  deregister(environment: string, url: string): Promise<void> {
    this.wanted.delete(url);
    return this.each((c) => c.deregister(environment, url));
  }

  /** Every listening router routes to it; one that came up after the registration is given it now. */
  async routesTo(url: string): Promise<boolean> {
    const listening = this.routers.filter((r) => r.listening());
    const routed = await Promise.all(
      listening.map(async (r) => {
        if (await r.client.routesTo(url)) return true;
        const environment = this.wanted.get(url);
        if (environment !== undefined) await r.client.register(environment, url).catch(() => {});
        return false;
      }),
    );
    return listening.length > 0 && routed.every(Boolean);
  }

  reportDeployments(status: Parameters<RouterClient['reportDeployments']>[0]): Promise<void> {
    return this.each((c) => c.reportDeployments(status));
  }

  reportModels(view: Parameters<RouterClient['reportModels']>[0]): Promise<void> {
    return this.each((c) => c.reportModels(view));
  }
}
