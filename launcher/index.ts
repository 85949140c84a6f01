// The launcher's public entry point: the local deployment file, as benchmarks and tools read it.
import fs from 'node:fs';
import { parseDeployment, type Deployment } from './src/deployment.ts';

export { Deployment, parseDeployment, withEnvironment, type EnvironmentDeployment } from './src/deployment.ts';

export const readDeployment = (file: string): Deployment => parseDeployment(fs.readFileSync(file, 'utf8'));
