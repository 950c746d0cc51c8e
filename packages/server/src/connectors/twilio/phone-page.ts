/**
 * The Twilio simulator's handset (`GET /`): pick the consumer's number, text one of the brand's numbers, see the
 * brand's answers. Plain HTML and a little script polling `/phone/state`; message text is set with textContent only.
 */
export const PHONE_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Simulated phone · Twilio simulator</title>
<link rel="icon" href="data:,">
<style>
  body { margin: 0; font: 15px/1.4 system-ui, sans-serif; background: #e9ecef; display: flex; justify-content: center; }
  .phone { width: 380px; max-width: 100vw; height: 100vh; max-height: 760px; margin: auto; background: #fff; display: flex; flex-direction: column; border-radius: 24px; overflow: hidden; box-shadow: 0 8px 32px #0003; }
  header { background: #1f2937; color: #fff; padding: 12px 16px; display: grid; gap: 6px; }
  header label { display: flex; gap: 8px; align-items: center; font-size: 13px; }
  header input, header select { flex: 1; font: inherit; padding: 4px 6px; border-radius: 6px; border: 0; }
  #thread { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 6px; background: #f8f9fa; }
  .bubble { max-width: 78%; padding: 8px 12px; border-radius: 16px; white-space: pre-wrap; word-wrap: break-word; }
  .inbound { align-self: flex-end; background: #2563eb; color: #fff; border-bottom-right-radius: 4px; }
  .outbound { align-self: flex-start; background: #e5e7eb; border-bottom-left-radius: 4px; }
  .auto { align-self: center; background: transparent; color: #6b7280; font-style: italic; font-size: 13px; text-align: center; }
  .meta { font-size: 11px; opacity: .75; margin-top: 2px; }
  .bubble a { color: inherit; }
  form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #ddd; }
  form input { flex: 1; font: inherit; padding: 8px 12px; border: 1px solid #ccc; border-radius: 18px; }
  form button { font: inherit; padding: 8px 14px; border: 0; border-radius: 18px; background: #2563eb; color: #fff; cursor: pointer; }
  #notice { color: #b91c1c; font-size: 13px; padding: 0 12px; min-height: 1em; }
  .empty { color: #6b7280; text-align: center; margin-top: 40%; }
</style>
</head>
<body>
<main class="phone">
  <header>
    <label>My number <input id="from" autocomplete="off" aria-label="My phone number"></label>
    <label>Texting <select id="to" aria-label="Brand number"></select></label>
  </header>
  <section id="thread" aria-live="polite"></section>
  <div id="notice" role="status"></div>
  <form id="composer">
    <input id="body" autocomplete="off" placeholder="Text message" aria-label="Text message">
    <button type="submit">Send</button>
  </form>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const from = $('from'), to = $('to'), thread = $('thread'), notice = $('notice'), body = $('body');
  from.value = localStorage.getItem('simulatedPhone') || '+1555' + String(Math.floor(1000000 + Math.random() * 8999999));
  from.addEventListener('change', () => { localStorage.setItem('simulatedPhone', from.value.trim()); refresh(); });
  localStorage.setItem('simulatedPhone', from.value);
  let lastRender = '';

  async function refresh() {
    try {
      const res = await fetch('/phone/state?from=' + encodeURIComponent(from.value.trim()));
      const state = await res.json();
      const current = to.value;
      if (to.options.length !== state.numbers.length) {
        to.replaceChildren(...state.numbers.map((n) => new Option(n, n)));
        if (state.numbers.includes(current)) to.value = current;
      }
      const shown = state.messages.filter((m) => !to.value || m.twilioNumber === to.value);
      const key = JSON.stringify(shown) + state.optedOut.join();
      if (key === lastRender) return;
      lastRender = key;
      const nearBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 40;
      thread.replaceChildren(...(shown.length ? shown.map(bubble) : [empty()]));
      if (nearBottom) thread.scrollTop = thread.scrollHeight;
      notice.textContent = state.optedOut.includes(to.value) ? 'You have opted out of this number (text START to opt back in).' : '';
    } catch (error) {
      notice.textContent = 'The simulator is not reachable.';
    }
  }

  function bubble(m) {
    const div = document.createElement('div');
    div.className = 'bubble ' + m.direction;
    div.textContent = m.body;
    for (const url of m.mediaUrls) {
      const link = document.createElement('a');
      link.href = url; link.textContent = '📎 ' + url; link.target = '_blank'; link.rel = 'noreferrer';
      div.append(document.createElement('br'), link);
    }
    if (m.direction !== 'auto') {
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.textContent = new Date(m.at).toLocaleTimeString() + ' · ' + m.status;
      div.append(meta);
    }
    return div;
  }

  function empty() {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'No messages yet. Text the brand below.';
    return p;
  }

  $('composer').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = body.value;
    if (!text.trim()) return;
    notice.textContent = '';
    try {
      const res = await fetch('/phone/send', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: from.value.trim(), to: to.value, body: text }) });
      const answer = await res.json();
      if (!res.ok) { notice.textContent = answer.error; return; }
      if (answer.webhookStatus < 200 || answer.webhookStatus >= 300) notice.textContent = 'The brand answered ' + (answer.webhookStatus || 'nothing') + ' to the webhook.';
      body.value = '';
    } catch (error) {
      notice.textContent = 'Not sent: the simulator is not reachable.';
    }
    refresh();
  });
  to.addEventListener('change', () => { lastRender = ''; refresh(); });

  refresh();
  setInterval(refresh, 1000);
})();
</script>
</body>
</html>
`;
