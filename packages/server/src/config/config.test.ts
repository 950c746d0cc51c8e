import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('OUTBOUND_ALLOWED_NETWORKS', () => {
  it('is empty by default: tenants reach public addresses only', () => {
    expect(loadConfig({}).outbound.allowedNetworks).toEqual([]);
  });

  it('takes a comma-separated list of networks and addresses, spaces allowed', () => {
    expect(loadConfig({ OUTBOUND_ALLOWED_NETWORKS: ' 10.20.0.0/16 , 127.0.0.1,fd00::/8 ' }).outbound.allowedNetworks).toEqual(['10.20.0.0/16', '127.0.0.1', 'fd00::/8']);
  });

  it('refuses to start with an entry that is not a network, naming it', () => {
    expect(() => loadConfig({ OUTBOUND_ALLOWED_NETWORKS: '10.0.0.0/8, 10.0.0.0/33' })).toThrow(/OUTBOUND_ALLOWED_NETWORKS: not an IP network: "10\.0\.0\.0\/33"/);
    expect(() => loadConfig({ OUTBOUND_ALLOWED_NETWORKS: 'intranet.local' })).toThrow(/not an IP network/);
  });
});
