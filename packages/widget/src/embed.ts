import { ParleyWidget } from './widget.ts';

/**
 * The entry of `widget.js`. A brand embeds it with one tag:
 *
 *   <script src="https://parley.example/widget.js" data-widget-key="pwk_..." async></script>
 *
 * Optional attributes: `data-locale="fr"` (overrides the account's language), `data-brand-token="getParleyToken"`
 * (the name of a global function returning a brand-signed JWT, or a promise of one, for authenticated consumers),
 * `data-parley-url` (where Parley is, when the script is served from elsewhere, e.g. a CDN).
 * Authenticated consumers can also be set up in code before the script loads:
 *
 *   window.parley = { brandToken: () => fetch('/parley-token').then((r) => r.text()) };
 *
 * Once started, `window.parley.open()` and `window.parley.close()` open and close the window, and
 * `window.parley.conversion({ type: 'purchase', value: 59.9, currency: 'EUR', orderId: 'A-1001' })` reports a
 * conversion of this visitor (docs/engagement.md).
 */
interface ParleyGlobal {
  brandToken?: () => string | Promise<string>;
  open?: () => void;
  close?: () => void;
  conversion?: ParleyWidget['reportConversion'];
  widget?: ParleyWidget;
}

declare global {
  interface Window {
    parley?: ParleyGlobal;
  }
}

function brandTokenHook(script: HTMLScriptElement, api: ParleyGlobal): (() => string | Promise<string>) | undefined {
  if (typeof api.brandToken === 'function') return api.brandToken;
  const name = script.dataset.brandToken;
  if (!name) return undefined;
  return () => {
    const hook: unknown = Reflect.get(window, name);
    if (typeof hook !== 'function') throw new Error(`Parley: data-brand-token names "${name}", which is not a global function`);
    return (hook as () => string | Promise<string>)();
  };
}

function boot(): void {
  const script = (document.currentScript as HTMLScriptElement | null) ?? document.querySelector<HTMLScriptElement>('script[data-widget-key]');
  const api: ParleyGlobal = window.parley ?? {};
  window.parley = api;
  if (api.widget) return; // the script was included twice
  const widgetKey = script?.dataset.widgetKey;
  if (!script || !widgetKey) {
    console.error('Parley: add data-widget-key="pwk_..." to the widget script tag.');
    return;
  }
  const baseUrl = script.dataset.parleyUrl ?? new URL('.', script.src || location.href).href;
  const brandToken = brandTokenHook(script, api);
  const widget = new ParleyWidget({ baseUrl, widgetKey, ...(brandToken ? { brandToken } : {}), ...(script.dataset.locale ? { locale: script.dataset.locale } : {}) });
  api.widget = widget;
  api.open = () => widget.toggle(true);
  api.close = () => widget.toggle(false);
  api.conversion = (conversion) => widget.reportConversion(conversion);
  const start = () => void widget.start();
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
}

boot();
