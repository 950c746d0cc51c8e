import { DEFAULT_WIDGET_SETTINGS, type WidgetSettings } from '@parley/protocol';
import { type FormEvent, useEffect, useState } from 'react';
import { useWorkspace } from '../../app/context.ts';
import { ErrorNotice, Loading } from '../../ui/feedback.tsx';
import { Page } from '../../ui/Page.tsx';
import { useResource } from '../../ui/use-resource.ts';
import { CopyButton } from './CopyButton.tsx';

export function embedSnippet(origin: string, widgetKey: string): string {
  return `<script src="${origin}/widget.js" data-widget-key="${widgetKey}" async></script>`;
}

export function WidgetSettingsPage() {
  const workspace = useWorkspace();
  const admin = workspace.me.role === 'admin';
  const account = useResource(() => workspace.session.rest.call('getAccount'), []);
  const settings = useResource(() => workspace.session.rest.call('getWidgetSettings'), []);
  const [form, setForm] = useState<WidgetSettings>(DEFAULT_WIDGET_SETTINGS);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (settings.data) setForm(settings.data);
  }, [settings.data]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      const body: WidgetSettings = { primaryColor: form.primaryColor, greeting: form.greeting, position: form.position };
      if (form.locale) body.locale = form.locale;
      if (form.title) body.title = form.title;
      settings.setData(await workspace.session.rest.call('updateWidgetSettings', { body }));
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const snippet = account.data ? embedSnippet(window.location.origin, account.data.widgetKey) : '';
  return (
    <Page title="Widget" description="The messaging window consumers open on your site.">
      <div className="widget-grid">
        <section className="card" aria-labelledby="snippet-heading">
          <header className="card-header">
            <h2 id="snippet-heading">Embed snippet</h2>
          </header>
          <div className="card-body">
            <p className="muted small">Paste it before &lt;/body&gt; on every page where the widget should appear.</p>
            {account.error ? (
              <ErrorNotice error={account.error} onRetry={account.reload} />
            ) : !account.data ? (
              <Loading />
            ) : (
              <>
                <pre className="snippet" data-testid="embed-snippet">
                  <code>{snippet}</code>
                </pre>
                <div className="row-end">
                  <a className="btn btn-small" href={`/demo?widgetKey=${encodeURIComponent(account.data.widgetKey)}`} target="_blank" rel="noreferrer">
                    Open the demo page
                  </a>
                  <CopyButton text={snippet} label="Copy snippet" />
                </div>
              </>
            )}
          </div>
        </section>
        <section className="card" aria-labelledby="look-heading">
          <header className="card-header">
            <h2 id="look-heading">Look and greeting</h2>
          </header>
          <div className="card-body">
            {settings.error ? (
              <ErrorNotice error={settings.error} onRetry={settings.reload} />
            ) : !settings.data ? (
              <Loading />
            ) : (
              <form className="form" onSubmit={submit}>
                <fieldset disabled={!admin} className="plain">
                  <div className="form-row">
                    <label className="field">
                      <span>Brand colour</span>
                      <span className="color-field">
                        <input type="color" value={form.primaryColor} onChange={(e) => setForm({ ...form, primaryColor: e.target.value })} aria-label="Pick the brand colour" />
                        <input value={form.primaryColor} pattern="#[0-9a-fA-F]{6}" onChange={(e) => setForm({ ...form, primaryColor: e.target.value })} aria-label="Brand colour as #rrggbb" />
                      </span>
                    </label>
                    <label className="field">
                      <span>Position</span>
                      <select value={form.position} onChange={(e) => setForm({ ...form, position: e.target.value as WidgetSettings['position'] })}>
                        <option value="bottom-right">Bottom right</option>
                        <option value="bottom-left">Bottom left</option>
                      </select>
                    </label>
                  </div>
                  <label className="field">
                    <span>Window title (optional; the account's name otherwise)</span>
                    <input maxLength={80} value={form.title ?? ''} onChange={(e) => setForm({ ...form, title: e.target.value || undefined })} />
                  </label>
                  <label className="field">
                    <span>Greeting</span>
                    <textarea rows={2} maxLength={500} required value={form.greeting} onChange={(e) => setForm({ ...form, greeting: e.target.value })} />
                  </label>
                  <label className="field">
                    <span>Language (optional, e.g. en, fr, de; the visitor's browser language otherwise)</span>
                    <input maxLength={12} value={form.locale ?? ''} onChange={(e) => setForm({ ...form, locale: e.target.value || undefined })} />
                  </label>
                </fieldset>
                <div className="preview" aria-hidden="true">
                  <div className="preview-window">
                    <div className="preview-head" style={{ background: form.primaryColor }}>
                      {form.title || account.data?.name || 'Chat'}
                    </div>
                    <div className="preview-body">
                      <span className="preview-bubble">{form.greeting}</span>
                    </div>
                  </div>
                  <span className="preview-launcher" style={{ background: form.primaryColor, [form.position === 'bottom-left' ? 'left' : 'right']: 8 }} />
                </div>
                {error !== null && <ErrorNotice error={error} compact />}
                {saved && (
                  <p className="notice notice-success" role="status">
                    Saved. Sites pick the change up within a minute.
                  </p>
                )}
                {admin ? (
                  <div className="row-end">
                    <button type="submit" className="btn btn-primary" disabled={busy}>
                      Save settings
                    </button>
                  </div>
                ) : (
                  <p className="muted small">Only admins change the widget.</p>
                )}
              </form>
            )}
          </div>
        </section>
      </div>
    </Page>
  );
}
