// Where the REST service keeps its own records, under the deployments root: the token hashes
// the quotas and the events (all 0600 in a 0700 directory).
import path from 'node:path';

export interface ServiceFiles {
  tokens: string;
  quotas: string;
  events: string;
}

export function serviceFiles(root: string, tokensFile?: string): ServiceFiles {
  const dir = path.join(root, '.service');
  return { tokens: tokensFile ?? path.join(dir, 'tokens.json'), quotas: path.join(dir, 'quotas.json'), events: path.join(dir, 'events.jsonl') };
}
