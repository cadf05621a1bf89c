import { setRetryPolicy } from '../../src/modules/security-group/retry.js';
import type { Provider } from '../../src/modules/security-group/types.js';

/** A provider's planted credentials: the values, and the variables each SDK reads them from. */
export interface PlantedCredentials {
  id: string;
  secret: string;
  idVar: string;
  secretVar: string;
}

/**
 * Points every cloud SDK at the test's fakes: each provider's credentials in its SDK's variables, its endpoint
 * variable at its fake, no instance metadata and none of this machine's cloud config files, and the real retry
 * backoff with short waits (the tests count attempts). Returns what puts the environment and the policy back.
 */
export function pointSdksAtFakes(
  creds: Record<Provider, PlantedCredentials>,
  endpointEnv: Record<Provider, string>,
  endpoints: Record<Provider, string>,
): () => void {
  const savedEnv = { ...process.env };
  for (const p of ['aws', 'aliyun', 'tencent'] as const) {
    process.env[creds[p].idVar] = creds[p].id;
    process.env[creds[p].secretVar] = creds[p].secret;
    process.env[endpointEnv[p]] = endpoints[p];
  }
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  process.env['AWS_CONFIG_FILE'] = '/nonexistent/vncplay-test';
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/vncplay-test';
  const savedPolicy = setRetryPolicy({ baseDelayMs: 10, maxDelayMs: 100 });
  return () => {
    setRetryPolicy(savedPolicy);
    process.env = savedEnv;
  };
}
