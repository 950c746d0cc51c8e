import { useEffect, useState } from 'react';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
import { LoginPage } from './LoginPage.tsx';
import { Session } from './session.ts';
import { Shell } from './Shell.tsx';

type Boot = { phase: 'restoring' } | { phase: 'anonymous'; notice?: string } | { phase: 'ready'; session: Session } | { phase: 'failed'; error: unknown };

/** Restores the session kept from the last visit, or shows the login page. */
export function App() {
  const [boot, setBoot] = useState<Boot>({ phase: 'restoring' });

  useEffect(() => {
    let cancelled = false;
    Session.restore().then(
      (session) => !cancelled && setBoot(session ? { phase: 'ready', session } : { phase: 'anonymous' }),
      (error: unknown) => !cancelled && setBoot({ phase: 'failed', error }),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(() => {
    if (boot.phase !== 'ready') return;
    const session = boot.session;
    session.onExpired(() => setBoot({ phase: 'anonymous', notice: 'Your session ended. Please sign in again.' }));
    const onStorage = () => session.noticeStorageChange();
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, [boot]);

  switch (boot.phase) {
    case 'restoring':
      return (
        <div className="boot">
          <Loading label="Opening Parley…" />
        </div>
      );
    case 'failed':
      return (
        <div className="boot">
          <ErrorNotice error={boot.error} onRetry={() => window.location.reload()} />
        </div>
      );
    case 'anonymous':
      return <LoginPage notice={boot.notice} onLoggedIn={(session) => setBoot({ phase: 'ready', session })} />;
    case 'ready':
      return (
        <Shell
          session={boot.session}
          onLogout={async () => {
            await boot.session.logout();
            setBoot({ phase: 'anonymous' });
          }}
        />
      );
  }
}
