import { AddressPolicy } from '../infra/outbound/address-policy.ts';
import { OutboundHttp, type OutboundFetch } from '../infra/outbound/outbound-http.ts';

/**
 * Parley's outbound client as tests' servers configure it (OUTBOUND_ALLOWED_NETWORKS=127.0.0.0/8,::1): provider
 * simulators, bots and webhook receivers listen on loopback. For connectors driven directly, without a server.
 */
export const loopbackFetch: OutboundFetch = new OutboundHttp(new AddressPolicy(['127.0.0.0/8', '::1'])).fetch;
