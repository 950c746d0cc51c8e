import { ParleyApiError } from '@parley/sdk';
import type { ReactNode } from 'react';
import { Icon } from './Icon.tsx';

/** An error as the server gave it: its message, its code and the request id to quote. */
export function ErrorNotice({ error, onRetry, compact }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const api = error instanceof ParleyApiError ? error : null;
  const message = api ? api.message : error instanceof Error ? error.message : String(error);
  return (
    <div className={`notice notice-error${compact ? ' notice-compact' : ''}`} role="alert">
      <Icon name="alert" />
      <div>
        <div>{message}</div>
        {api && (
          <div className="notice-meta">
            <code>{api.code}</code>
            {api.requestId && <span> · request {api.requestId}</span>}
          </div>
        )}
      </div>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ title, children, icon = 'inbox' }: { title: string; children?: ReactNode; icon?: Parameters<typeof Icon>[0]['name'] }) {
  return (
    <div className="empty">
      <span className="empty-icon">
        <Icon name={icon} size={22} />
      </span>
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

/** Loading, error and content of an async resource in one place. */
export function Async<T>({ state, children, empty }: { state: ResourceState<T>; children: (data: T) => ReactNode; empty?: (data: T) => ReactNode | null }) {
  if (state.error) return <ErrorNotice error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Loading />;
  const emptyView = empty?.(state.data);
  return <>{emptyView ?? children(state.data)}</>;
}

export interface ResourceState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}
