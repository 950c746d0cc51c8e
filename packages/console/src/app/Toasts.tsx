import { Icon } from '../ui/Icon.tsx';
import { useWorkspace, useWorkspaceState } from './context.ts';
import { navigate } from './router.ts';

export function Toasts() {
  const workspace = useWorkspace();
  const { toasts } = useWorkspaceState();
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((toast) => (
        <div key={toast.id} className={`toast toast-${toast.tone}`}>
          <Icon name={toast.tone === 'error' ? 'alert' : toast.tone === 'success' ? 'check' : 'bell'} />
          <span className="toast-text">{toast.text}</span>
          {toast.conversationId && (
            <button
              type="button"
              className="btn btn-small"
              onClick={() => {
                navigate(`/conversations/${toast.conversationId}`);
                workspace.dismissToast(toast.id);
              }}
            >
              Open
            </button>
          )}
          <button type="button" className="btn-icon" aria-label="Dismiss" onClick={() => workspace.dismissToast(toast.id)}>
            <Icon name="close" size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}
