/**
 * The widget's styles, scoped to its shadow root. `:host` declarations are `!important` because, across the shadow
 * boundary, the page's important rules lose to the shadow tree's important rules (and win over its normal ones): so a
 * page's `* { all: unset !important; display: none !important }` cannot hide or restyle the host. `all: initial` stops
 * the page's inherited styles (font, colour, size) at the boundary. Sizes are in px, never rem, which the page's root
 * font size would scale.
 */
export const styles = `
:host {
  all: initial !important;
  display: block !important;
  position: fixed !important;
  z-index: 2147483000 !important;
  bottom: 20px !important;
  right: 20px !important;
  left: auto !important;
  top: auto !important;
  width: auto !important;
  height: auto !important;
  margin: 0 !important;
  padding: 0 !important;
  border: 0 !important;
  background: none !important;
  visibility: visible !important;
  opacity: 1 !important;
  transform: none !important;
  pointer-events: none !important;
  contain: layout style !important;
}
:host(.pw-left) { right: auto !important; left: 20px !important; }

.pw-root, .pw-root * { box-sizing: border-box; }
.pw-root {
  font: 400 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
  color: #1b1f24;
  -webkit-font-smoothing: antialiased;
  display: flex;
  flex-direction: column;
  align-items: flex-end;
  gap: 14px;
  pointer-events: none;
}
:host(.pw-left) .pw-root { align-items: flex-start; }
.pw-root > * { pointer-events: auto; }
[hidden] { display: none !important; }
button { font: inherit; color: inherit; cursor: pointer; }
button:disabled { cursor: default; }
:focus { outline: none; }
:focus-visible { outline: 3px solid var(--pw-accent); outline-offset: 2px; }
.pw-sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

/* ---------- launcher ---------- */
.pw-launcher {
  order: 2;
  position: relative;
  width: 60px; height: 60px;
  border: 0; border-radius: 50%;
  background: var(--pw-primary); color: var(--pw-on-primary);
  box-shadow: 0 6px 20px rgba(15, 23, 42, .28), 0 2px 6px rgba(15, 23, 42, .18);
  display: grid; place-items: center;
  transition: transform .15s ease, box-shadow .15s ease;
}
.pw-launcher:hover { transform: scale(1.05); box-shadow: 0 8px 26px rgba(15, 23, 42, .32); }
.pw-launcher:focus-visible { outline-color: var(--pw-accent); outline-offset: 3px; }
.pw-launcher svg { width: 28px; height: 28px; display: block; }
.pw-badge {
  position: absolute; top: -4px; right: -4px;
  min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; border: 2px solid #fff;
  background: #d92d20; color: #fff;
  font: 700 12px/18px system-ui, sans-serif; text-align: center;
}

/* ---------- window ---------- */
.pw-window {
  order: 1;
  width: 380px;
  height: min(640px, calc(100vh - 120px));
  display: flex; flex-direction: column;
  background: #fff;
  border-radius: 16px;
  overflow: hidden;
  box-shadow: 0 16px 48px rgba(15, 23, 42, .24), 0 2px 8px rgba(15, 23, 42, .12);
  animation: pw-in .18s ease-out;
}
@keyframes pw-in { from { opacity: 0; transform: translateY(12px) scale(.98); } to { opacity: 1; transform: none; } }

.pw-header {
  display: flex; align-items: center; gap: 12px;
  padding: 14px 12px 14px 16px;
  background: var(--pw-primary); color: var(--pw-on-primary);
}
.pw-avatar {
  flex: none; width: 38px; height: 38px; border-radius: 50%;
  display: grid; place-items: center;
  background: var(--pw-on-primary-soft); color: var(--pw-on-primary);
  font-weight: 700; font-size: 16px;
}
.pw-titles { flex: 1; min-width: 0; }
.pw-title { margin: 0; font-size: 16px; font-weight: 650; line-height: 1.25; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.pw-subtitle { margin: 2px 0 0; font-size: 13px; line-height: 1.3; opacity: .92; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.pw-icon-button {
  flex: none; width: 36px; height: 36px; border-radius: 8px; border: 0;
  background: transparent; color: inherit; display: grid; place-items: center;
}
.pw-icon-button svg { width: 20px; height: 20px; display: block; }
.pw-header .pw-icon-button:hover { background: var(--pw-on-primary-soft); }
.pw-header :focus-visible { outline-color: var(--pw-on-primary); outline-offset: -3px; }

.pw-banner {
  padding: 7px 14px; font-size: 13px; text-align: center;
  background: #fff4d6; color: #5c4300; border-bottom: 1px solid #f0dc9c;
}

.pw-log {
  flex: 1; overflow-y: auto; overscroll-behavior: contain;
  padding: 16px 14px 8px;
  background: #f6f7f9;
  display: flex; flex-direction: column;
}
.pw-log:focus-visible { outline-offset: -3px; }
.pw-rows { display: flex; flex-direction: column; gap: 2px; margin-top: auto; }
.pw-earlier {
  align-self: center; margin: 0 0 12px; padding: 6px 12px;
  border: 1px solid #d5d9e0; border-radius: 999px; background: #fff; color: #39414d; font-size: 13px;
}
.pw-earlier:hover { background: #eef0f3; }

.pw-separator {
  display: flex; align-items: center; gap: 10px;
  margin: 14px 0 10px; color: #5b6472; font-size: 12px; font-weight: 600; letter-spacing: .02em;
}
.pw-separator::before, .pw-separator::after { content: ''; flex: 1; height: 1px; background: #dde1e7; }
.pw-notice { align-self: center; margin: 8px 12px; color: #5b6472; font-size: 12.5px; text-align: center; }

.pw-row { display: flex; flex-direction: column; max-width: 82%; margin-top: 6px; }
.pw-row.pw-own { align-self: flex-end; align-items: flex-end; }
.pw-row.pw-their { align-self: flex-start; align-items: flex-start; }
.pw-author { font-size: 12px; font-weight: 600; color: #4a5260; margin: 6px 0 3px 4px; }
.pw-bubble {
  padding: 9px 13px; border-radius: 18px;
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;
}
.pw-their .pw-bubble { background: #fff; color: #1b1f24; border: 1px solid #e3e6eb; border-bottom-left-radius: 6px; }
.pw-own .pw-bubble { background: var(--pw-primary); color: var(--pw-on-primary); border-bottom-right-radius: 6px; }
.pw-own.pw-pending .pw-bubble { opacity: .72; }
.pw-own.pw-failed .pw-bubble { background: #fdecea; color: #7a1c14; border: 1px solid #f4b9b2; }
.pw-greeting .pw-bubble { background: #fff; border: 1px solid #e3e6eb; border-bottom-left-radius: 6px; }
.pw-meta { display: flex; align-items: center; gap: 6px; margin: 3px 6px 0; font-size: 11.5px; color: #5b6472; }
.pw-status { display: inline-flex; align-items: center; gap: 3px; }
.pw-status svg { width: 15px; height: 15px; }
.pw-status-read { color: var(--pw-accent); font-weight: 600; }
.pw-status-failed { color: #b42318; font-weight: 600; }
.pw-retry { border: 0; background: none; padding: 0; color: var(--pw-accent); text-decoration: underline; font-size: 11.5px; }

.pw-file { display: inline-flex; align-items: center; gap: 8px; border: 0; background: none; padding: 0; text-align: left; color: inherit; }
.pw-file svg { width: 18px; height: 18px; flex: none; }
.pw-file-size { opacity: .8; font-size: 12px; }
.pw-thumb { display: block; max-width: 220px; max-height: 220px; border-radius: 12px; margin: -3px -7px; }

/* ---------- structured content ---------- */
.pw-card { border-radius: 14px; overflow: hidden; background: #fff; border: 1px solid #e3e6eb; min-width: 200px; max-width: 280px; }
.pw-card.pw-borderless { border: 0; }
.pw-card.pw-shadow { border: 0; box-shadow: 0 2px 10px rgba(15, 23, 42, .14); }
.pw-sc-vertical { display: flex; flex-direction: column; }
.pw-sc-horizontal { display: flex; flex-direction: row; }
.pw-sc-horizontal > * { flex: 1; min-width: 0; }
.pw-sc-carousel { display: flex; gap: 8px; overflow-x: auto; padding: 2px; }
.pw-sc-carousel > * { flex: 0 0 220px; }
.pw-sc-text { padding: 8px 14px; white-space: pre-wrap; overflow-wrap: anywhere; }
.pw-sc-vertical > .pw-sc-text:first-child { padding-top: 12px; }
.pw-sc-text.pw-small { font-size: 13px; }
.pw-sc-text.pw-large { font-size: 18px; }
.pw-sc-image { display: block; width: 100%; max-height: 200px; object-fit: cover; background: #eef0f3; }
.pw-sc-button {
  display: block; width: 100%; padding: 11px 14px; border: 0; border-top: 1px solid #e3e6eb;
  background: #fff; color: var(--pw-accent); font-weight: 600; text-align: center;
}
.pw-sc-button:hover { background: #f3f5f8; }
.pw-sc-button:focus-visible { outline-offset: -3px; }
.pw-sc-horizontal > .pw-sc-button + .pw-sc-button { border-left: 1px solid #e3e6eb; }

/* ---------- typing, quick replies, composer ---------- */
.pw-typing { display: flex; align-items: center; gap: 8px; padding: 4px 18px 6px; font-size: 12.5px; color: #5b6472; background: #f6f7f9; }
.pw-dots { display: inline-flex; gap: 3px; }
.pw-dots i { width: 6px; height: 6px; border-radius: 50%; background: #8a93a1; animation: pw-dot 1.2s infinite ease-in-out; }
.pw-dots i:nth-child(2) { animation-delay: .15s; }
.pw-dots i:nth-child(3) { animation-delay: .3s; }
@keyframes pw-dot { 0%, 60%, 100% { opacity: .3; transform: none; } 30% { opacity: 1; transform: translateY(-3px); } }

.pw-quick { display: flex; flex-wrap: wrap; justify-content: flex-end; gap: 6px; padding: 8px 14px 10px; background: #f6f7f9; }
.pw-quick button {
  padding: 7px 14px; border-radius: 999px;
  border: 1.5px solid var(--pw-accent); background: #fff; color: var(--pw-accent);
  font-size: 14px; font-weight: 600;
}
.pw-quick button:hover { background: var(--pw-accent); color: #fff; }

.pw-composer { display: flex; align-items: flex-end; gap: 4px; padding: 10px; border-top: 1px solid #e3e6eb; background: #fff; }
.pw-composer .pw-icon-button { color: #4a5260; border-radius: 50%; width: 40px; height: 40px; }
.pw-composer .pw-icon-button:hover { background: #eef0f3; }
.pw-input {
  flex: 1; min-width: 0; resize: none; max-height: 120px; min-height: 40px;
  padding: 9px 12px; border: 1px solid #cfd4db; border-radius: 20px;
  font: inherit; color: #1b1f24; background: #fff; line-height: 20px;
}
.pw-input::placeholder { color: #6b7380; }
.pw-input:focus-visible { outline: 2px solid var(--pw-accent); outline-offset: 0; border-color: transparent; }
.pw-send { background: var(--pw-primary) !important; color: var(--pw-on-primary) !important; }
.pw-send:disabled { opacity: .45; }

.pw-survey { padding: 12px 14px; border-top: 1px solid #e3e6eb; background: #f6f7f9; }
.pw-survey fieldset { border: 0; margin: 0; padding: 0; min-width: 0; }
.pw-survey legend { padding: 0; margin-bottom: 8px; font-weight: 600; color: #1b1f24; }
.pw-scores { display: flex; gap: 8px; }
.pw-score { flex: 1; cursor: pointer; }
.pw-score span[aria-hidden] {
  display: flex; align-items: center; justify-content: center; height: 38px; border-radius: 10px;
  border: 1.5px solid var(--pw-accent); background: #fff; color: var(--pw-accent); font-size: 16px; font-weight: 700;
}
.pw-score:hover span[aria-hidden] { background: #eef0f3; }
.pw-score input:checked ~ span[aria-hidden] { background: var(--pw-primary); border-color: var(--pw-primary); color: var(--pw-on-primary); }
.pw-score input:focus-visible ~ span[aria-hidden] { outline: 2px solid var(--pw-accent); outline-offset: 2px; }
.pw-scale { display: flex; justify-content: space-between; margin: 4px 2px 8px; font-size: 12px; color: #5b6472; }
.pw-survey textarea { width: 100%; box-sizing: border-box; resize: none; height: 56px; padding: 8px 10px; border: 1px solid #cfd4db; border-radius: 10px; font: inherit; color: #1b1f24; }
.pw-survey textarea:focus-visible { outline: 2px solid var(--pw-accent); border-color: transparent; }
.pw-survey-actions { display: flex; justify-content: flex-end; align-items: center; gap: 8px; margin-top: 8px; }
.pw-survey-actions button { padding: 7px 16px; border-radius: 999px; font-size: 14px; font-weight: 600; border: 0; }
.pw-survey-skip { background: transparent; color: #4a5260; text-decoration: underline; }
.pw-survey-send { background: var(--pw-primary); color: var(--pw-on-primary); }
.pw-survey-send:disabled { opacity: .45; cursor: default; }
.pw-survey-status { margin: 6px 0 0; font-size: 13px; color: #b3261e; }
.pw-survey-status:empty { display: none; }
.pw-survey-thanks { margin: 0; font-weight: 600; color: #1b1f24; text-align: center; }

/* ---------- phones: a full-screen sheet ---------- */
@media (max-width: 480px) {
  :host { bottom: 16px !important; right: 16px !important; }
  :host(.pw-left) { left: 16px !important; }
  :host(.pw-open) { inset: 0 !important; }
  :host(.pw-open) .pw-root { width: 100%; height: 100%; }
  :host(.pw-open) .pw-launcher { display: none; }
  .pw-window { position: fixed; inset: 0; width: 100%; height: 100%; border-radius: 0; animation: pw-sheet .2s ease-out; }
  .pw-header { padding-top: max(14px, env(safe-area-inset-top)); }
  .pw-composer { padding-bottom: max(10px, env(safe-area-inset-bottom)); }
  .pw-input { font-size: 16px; }
  @keyframes pw-sheet { from { transform: translateY(24px); opacity: .6; } to { transform: none; opacity: 1; } }
}
@media (prefers-reduced-motion: reduce) {
  .pw-window, .pw-dots i, .pw-launcher { animation: none !important; transition: none !important; }
}
`;
