// Where the REST service keeps its own records, under the deployments root: the token hashes
// and the quotas (both 0600 in a 0700 directory).
import path from 'node:path';

export interface ServiceFiles {
  tokens: string;
  quotas: string;
}

export function serviceFiles(root: string, tokensFile?: string): ServiceFiles {
  const dir = path.join(root, '.service');
  return { tokens: tokensFile ?? path.join(dir, 'tokens.json'), quotas: path.join(dir, 'quotas.json') };
}
