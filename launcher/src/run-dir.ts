// What npm start keeps in its run directory (RUN_DIR, .run by default; ignored by git): the
// generated admin token, one log per process, and where the running controller's router listens
// (for `npm run deploy`).
export const CONTROLLER_FILE = 'controller.json';
export const ADMIN_TOKEN_FILE = 'admin-token';
export const LOG_DIR = 'logs';

export interface ControllerFile {
  pid: number;
  router_url: string;
  /** Every router's, the first being router_url (deploy/local.yaml's router.instances). */
  router_urls?: string[];
  deployment_file: string;
}
