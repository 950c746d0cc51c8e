/**
 * The Messenger simulator's page (`GET /`): a person picks a PSID, writes to the Page and sees its replies, with quick
 * replies as buttons and "Seen" marks. Plain HTML and vanilla JS, polling `/simulator/conversation` every second.
 */
export function messengerSimulatorPage(pageId: string): string {
  const page = escapeHtml(pageId);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Messenger simulator · Page ${page}</title>
<style>
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.4 system-ui, sans-serif; background: #f0f2f5; color: #050505; display: flex; justify-content: center; }
  main { width: 100%; max-width: 480px; height: 100vh; display: flex; flex-direction: column; background: #fff; }
  header { padding: 12px 16px; border-bottom: 1px solid #ddd; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0 auto 0 0; }
  header label { font-size: 13px; color: #65676b; }
  header input { width: 170px; padding: 4px 6px; }
  #log { flex: 1; overflow-y: auto; padding: 12px 16px; display: flex; flex-direction: column; gap: 6px; }
  .bubble { max-width: 75%; padding: 8px 12px; border-radius: 18px; white-space: pre-wrap; word-wrap: break-word; }
  .in { align-self: flex-end; background: #0084ff; color: #fff; }
  .out { align-self: flex-start; background: #e4e6eb; }
  .bubble img { max-width: 100%; border-radius: 12px; display: block; }
  .bubble a { color: inherit; }
  .seen { align-self: flex-start; font-size: 11px; color: #65676b; }
  #quick { display: flex; gap: 6px; flex-wrap: wrap; padding: 0 16px 8px; justify-content: flex-end; }
  #quick button { border: 1px solid #0084ff; color: #0084ff; background: #fff; border-radius: 16px; padding: 4px 12px; cursor: pointer; }
  form { display: flex; gap: 8px; padding: 12px 16px; border-top: 1px solid #ddd; }
  form input { flex: 1; padding: 8px 12px; border-radius: 18px; border: 1px solid #ccc; }
  form button { padding: 8px 16px; border-radius: 18px; border: 0; background: #0084ff; color: #fff; cursor: pointer; }
  #status { font-size: 12px; color: #b00020; padding: 0 16px; min-height: 1em; }
</style>
</head>
<body>
<main>
  <header>
    <h1>Page ${page}</h1>
    <label for="psid">You (PSID)</label>
    <input id="psid" inputmode="numeric" autocomplete="off">
  </header>
  <div id="log" aria-live="polite"></div>
  <div id="quick"></div>
  <div id="status" role="status"></div>
  <form id="composer">
    <input id="text" placeholder="Aa" autocomplete="off" aria-label="Message">
    <button type="submit">Send</button>
  </form>
</main>
<script>
(() => {
  const psidInput = document.getElementById('psid');
  const log = document.getElementById('log');
  const quick = document.getElementById('quick');
  const status = document.getElementById('status');
  const text = document.getElementById('text');
  psidInput.value = localStorage.getItem('messenger-sim-psid') || String(Math.floor(1e15 + Math.random() * 9e15));
  psidInput.addEventListener('change', () => { localStorage.setItem('messenger-sim-psid', psidInput.value); render([]); refresh(); });
  localStorage.setItem('messenger-sim-psid', psidInput.value);
  let shown = '';

  async function send(body) {
    status.textContent = '';
    const response = await fetch('/simulator/send', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ psid: psidInput.value, ...body }) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) status.textContent = answer.error || 'Not sent';
    else if (answer.webhookStatus !== 200) status.textContent = 'Parley answered the webhook with ' + answer.webhookStatus;
    refresh();
  }

  document.getElementById('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!text.value.trim()) return;
    send({ text: text.value });
    text.value = '';
  });

  function render(messages) {
    const key = JSON.stringify(messages);
    if (key === shown) return;
    shown = key;
    log.replaceChildren();
    quick.replaceChildren();
    for (const message of messages) {
      const bubble = document.createElement('div');
      bubble.className = 'bubble ' + message.direction;
      if (message.attachment) {
        if (message.attachment.type === 'image') {
          const img = document.createElement('img');
          img.src = message.attachment.url;
          img.alt = 'image';
          bubble.append(img);
        } else {
          const link = document.createElement('a');
          link.href = message.attachment.url;
          link.target = '_blank';
          link.textContent = message.attachment.type + ': ' + message.attachment.url;
          bubble.append(link);
        }
      }
      if (message.text) bubble.append(document.createTextNode(message.text));
      log.append(bubble);
    }
    const last = messages[messages.length - 1];
    if (last && last.direction === 'out') {
      if (last.read) {
        const seen = document.createElement('div');
        seen.className = 'seen';
        seen.textContent = 'Seen';
        log.append(seen);
      }
      for (const reply of last.quickReplies) {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = reply.title;
        button.addEventListener('click', () => send({ text: reply.title, quickReplyPayload: reply.payload }));
        quick.append(button);
      }
    }
    log.scrollTop = log.scrollHeight;
  }

  async function refresh() {
    try {
      const seen = document.visibilityState === 'visible' ? '&seen=1' : '';
      const response = await fetch('/simulator/conversation?psid=' + encodeURIComponent(psidInput.value) + seen);
      const conversation = await response.json();
      if (!conversation.webhookUrl) status.textContent = 'No webhook URL yet: the Page is not connected to Parley.';
      render(conversation.messages);
    } catch {
      status.textContent = 'The simulator is not running.';
    }
  }
  refresh();
  setInterval(refresh, 1000);
})();
</script>
</body>
</html>
`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
