import { describe, expect, it } from 'vitest';
import * as sdk from './index.ts';

describe('@parley/sdk entry point', () => {
  it('exports the clients, the helpers and the error classes', () => {
    expect(Object.keys(sdk).sort()).toEqual([
      'ParleyApiError',
      'ParleyConnectionError',
      'RealtimeClient',
      'backoffDelay',
      'createAgent',
      'createConsumer',
      'createRestClient',
      'createTokenSource',
      'realtimeUrl',
    ]);
  });
});
