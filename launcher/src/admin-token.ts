// The admin token: ROUTER_ADMIN_TOKEN when set; otherwise one is generated and written to a file
// only the user can read, so the admin API is protected from the first start.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function adminToken(given: string | undefined, file: string): { token: string; generated: boolean } {
  if (given) return { token: given, generated: false };
  const token = randomBytes(24).toString('base64url');
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return { token, generated: true };
}
