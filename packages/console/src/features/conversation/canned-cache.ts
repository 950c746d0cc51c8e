import type { CannedResponse } from '@parley/protocol';
import { useEffect, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';

let cache: { at: number; promise: Promise<CannedResponse[]> } | undefined;
const FRESH_MS = 60_000;

/** Drops the cached list (after an edit on the canned-responses page). */
export function invalidateCannedResponses(): void {
  cache = undefined;
}

/** The canned responses the user may insert, loaded once a minute at most and shared by every composer. */
export function useCannedResponses(): { data: CannedResponse[] | undefined; error: unknown } {
  const workspace = useWorkspace();
  const [state, setState] = useState<{ data: CannedResponse[] | undefined; error: unknown }>({ data: undefined, error: null });
  useEffect(() => {
    if (!cache || Date.now() - cache.at > FRESH_MS) {
      const promise = workspace.session.rest.call('listCannedResponses').then((r) => r.items);
      cache = { at: Date.now(), promise };
      promise.catch(() => {
        cache = undefined;
      });
    }
    let live = true;
    cache.promise.then(
      (data) => live && setState({ data, error: null }),
      (error: unknown) => live && setState({ data: [], error }),
    );
    return () => {
      live = false;
    };
  }, [workspace]);
  return state;
}
