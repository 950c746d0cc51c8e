import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ErrorNotice } from '../ui/feedback.tsx';
import { Session } from './session.ts';

export function LoginPage({ onLoggedIn, notice }: { onLoggedIn: (session: Session) => void; notice?: string | undefined }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const emailInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Parley';
    emailInput.current?.focus();
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLoggedIn(await Session.login(email.trim(), password));
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <div className="login-card">
        <div className="login-brand">
          <span className="logo-mark" aria-hidden="true">
            P
          </span>
          <span>Parley</span>
        </div>
        <h1>Sign in to your workspace</h1>
        <p className="muted">Agents, managers and admins sign in with their work email.</p>
        {notice && !error && (
          <div className="notice notice-info" role="status">
            {notice}
          </div>
        )}
        {error !== null && <ErrorNotice error={error} compact />}
        <form onSubmit={submit} className="form">
          <label className="field">
            <span>Email</span>
            <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} ref={emailInput} />
          </label>
          <label className="field">
            <span>Password</span>
            <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
      <p className="login-foot muted">Parley · open-source conversational customer care</p>
    </main>
  );
}
