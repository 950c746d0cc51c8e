import { useCallback, useEffect, useRef, useState } from 'react';
import type { ResourceState } from './feedback.tsx';

/** Loads something once (and again on `reload`), keeping the last data while reloading. */
export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[] = []): ResourceState<T> & { setData: (data: T) => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    loader.current().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (mine !== generation.current) return;
        setError(err);
        setLoading(false);
      },
    );
  }, []);
  // The caller's dependencies, as one value: a change reloads.
  const key = JSON.stringify(deps);
  useEffect(() => {
    if (key !== undefined) reload();
  }, [reload, key]);
  return { data, error, loading, reload, setData };
}
