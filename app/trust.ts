// trust show and trust set: the signature policy (containers-policy.json) every pull is checked against.
import { describeTrust, setTrust as writeTrust, type PolicySummary, type TrustType } from '../store/index.js';
import type { AppContext } from './context.js';

export function showTrust(app: AppContext): Promise<PolicySummary> {
  return describeTrust(app.settings.trust);
}

/** Sets the requirements of one policy scope; resolves with the policy file written. */
export function setTrust(app: AppContext, input: { scope: string; type: TrustType; keys: readonly string[] }): Promise<string> {
  return writeTrust(app.settings.trust, input.scope, input.type, [...input.keys]);
}
