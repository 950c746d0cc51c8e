/**
 * The WhatsApp simulator's page (`GET /`): a person picks their number, writes to the business, and sees its
 * replies with clickable buttons and lists, and the templates it sends. Plain HTML and vanilla JS polling
 * `/sim/state`; everything shown goes through `textContent`.
 */
export const simulatorPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WhatsApp simulator</title>
<link rel="icon" href="data:,">
<style>
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.4 system-ui, sans-serif; background: #d1d7db; height: 100vh; display: flex; justify-content: center; }
  .app { width: 100%; max-width: 480px; display: flex; flex-direction: column; background: #efeae2; }
  header { background: #008069; color: #fff; padding: 10px 14px; }
  header h1 { font-size: 17px; margin: 0; }
  header small { opacity: .85; }
  .who { display: flex; gap: 6px; padding: 8px; background: #f0f2f5; flex-wrap: wrap; align-items: center; }
  .who input { flex: 1; min-width: 110px; padding: 6px 8px; border: 1px solid #ccc; border-radius: 6px; }
  .who button, .composer button { background: #008069; color: #fff; border: 0; border-radius: 6px; padding: 7px 10px; cursor: pointer; }
  .who .clock { background: #667781; }
  .banner { padding: 6px 12px; font-size: 13px; background: #fff3c4; }
  .banner:empty { display: none; }
  main { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 6px; }
  .msg { max-width: 80%; padding: 6px 9px 4px; border-radius: 8px; box-shadow: 0 1px .5px rgba(0,0,0,.13); white-space: pre-wrap; word-wrap: break-word; }
  .in { align-self: flex-end; background: #d9fdd3; }
  .out { align-self: flex-start; background: #fff; }
  .refused { align-self: center; background: #ffe2e2; font-size: 13px; }
  .meta { font-size: 11px; color: #667781; text-align: right; margin-top: 2px; }
  .choices { display: flex; flex-direction: column; gap: 4px; margin-top: 6px; }
  .choices button { background: #fff; color: #008069; border: 1px solid #e9edef; border-radius: 6px; padding: 6px; cursor: pointer; font-weight: 600; }
  .choices .desc { font-weight: 400; color: #667781; font-size: 12px; display: block; }
  .msg img { max-width: 100%; border-radius: 6px; display: block; }
  .composer { display: flex; gap: 6px; padding: 8px; background: #f0f2f5; }
  .composer input { flex: 1; padding: 9px 12px; border: 0; border-radius: 8px; }
</style>
</head>
<body>
<div class="app">
  <header><h1 id="title">WhatsApp simulator</h1><small id="subtitle"></small></header>
  <div class="who">
    <input id="waId" placeholder="Your number (digits), e.g. 15551230001" inputmode="numeric" aria-label="Your WhatsApp number">
    <input id="name" placeholder="Your name" aria-label="Your profile name">
    <button class="clock" id="clock" title="Move the simulator's clock forward 25 hours (closes the 24-hour window)">+25 h</button>
  </div>
  <div class="banner" id="banner"></div>
  <main id="chat" aria-live="polite"></main>
  <form class="composer" id="composer">
    <input id="text" placeholder="Type a message" autocomplete="off" aria-label="Message">
    <button type="submit">Send</button>
  </form>
</div>
<script>
(function () {
  var waIdInput = document.getElementById('waId');
  var nameInput = document.getElementById('name');
  var chat = document.getElementById('chat');
  var banner = document.getElementById('banner');
  var lastRendered = '';
  var templates = [];
  waIdInput.value = localStorage.getItem('wa-sim-waId') || '15551230001';
  nameInput.value = localStorage.getItem('wa-sim-name') || 'Alex';
  waIdInput.addEventListener('change', function () { localStorage.setItem('wa-sim-waId', waIdInput.value); lastRendered = ''; poll(); });
  nameInput.addEventListener('change', function () { localStorage.setItem('wa-sim-name', nameInput.value); });

  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function who() { return { waId: waIdInput.value.replace(/\\D/g, ''), name: nameInput.value }; }
  function api(path, body) {
    return fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(Object.assign(who(), body)) })
      .then(function (r) { return r.json(); })
      .then(function (r) { banner.textContent = r.error || ''; poll(); });
  }
  document.getElementById('composer').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = document.getElementById('text');
    if (!input.value.trim()) return;
    api('/sim/send', { text: input.value });
    input.value = '';
  });
  document.getElementById('clock').addEventListener('click', function () { api('/sim/clock', { hours: 25 }); });

  function fill(body, params) { return body.replace(/\\{\\{(\\d+)\\}\\}/g, function (_, n) { return params[Number(n) - 1] || ''; }); }
  function choiceButton(label, desc, onClick) {
    var b = el('button', null, label);
    if (desc) b.appendChild(el('span', 'desc', desc));
    b.addEventListener('click', onClick);
    return b;
  }
  function renderOutbound(box, m) {
    if (m.type === 'text') box.appendChild(document.createTextNode(m.text.body));
    else if (m.type === 'image' || m.type === 'video' || m.type === 'audio' || m.type === 'document') {
      var media = m[m.type];
      if (m.type === 'image') { var img = el('img'); img.src = media.link; img.alt = media.caption || 'image'; box.appendChild(img); }
      var a = el('a', null, (m.type === 'document' ? '📄 ' + (media.filename || 'document') : m.type === 'image' ? '' : '📎 ' + m.type));
      a.href = media.link; a.target = '_blank'; a.rel = 'noopener'; box.appendChild(a);
      if (media.caption) box.appendChild(el('div', null, media.caption));
    } else if (m.type === 'interactive') {
      var i = m.interactive;
      box.appendChild(document.createTextNode(i.body.text));
      var choices = el('div', 'choices');
      if (i.type === 'button') {
        i.action.buttons.forEach(function (b) { choices.appendChild(choiceButton(b.reply.title, null, function () { api('/sim/reply', { kind: 'button', id: b.reply.id, title: b.reply.title }); })); });
      } else {
        var open = choiceButton('☰ ' + i.action.button, null, function () { list.hidden = !list.hidden; });
        var list = el('div', 'choices'); list.hidden = true;
        i.action.sections.forEach(function (s) {
          if (s.title) list.appendChild(el('strong', null, s.title));
          s.rows.forEach(function (r) { list.appendChild(choiceButton(r.title, r.description, function () { api('/sim/reply', { kind: 'list', id: r.id, title: r.title }); })); });
        });
        choices.appendChild(open); choices.appendChild(list);
      }
      box.appendChild(choices);
    } else if (m.type === 'template') {
      var t = templates.find(function (x) { return x.name === m.template.name && x.language === m.template.language.code; });
      var body = (m.template.components || []).find(function (c) { return c.type === 'body'; });
      var params = body ? body.parameters.map(function (p) { return p.text; }) : [];
      box.appendChild(document.createTextNode(t ? fill(t.body, params) : 'Template ' + m.template.name));
      if (t && t.buttons && t.buttons.length) {
        var tc = el('div', 'choices');
        t.buttons.forEach(function (label) { tc.appendChild(choiceButton(label, null, function () { api('/sim/reply', { kind: 'template', payload: label, title: label }); })); });
        box.appendChild(tc);
      }
    }
  }
  function renderInbound(box, m) {
    if (m.type === 'text') box.textContent = m.text.body;
    else if (m.type === 'interactive') box.textContent = (m.interactive.button_reply || m.interactive.list_reply).title;
    else if (m.type === 'button') box.textContent = m.button.text;
    else box.textContent = '[' + m.type + ']' + (m[m.type] && m[m.type].caption ? ' ' + m[m.type].caption : '');
  }
  function render(state) {
    document.getElementById('title').textContent = 'Chat with ' + state.business.displayPhoneNumber;
    document.getElementById('subtitle').textContent = 'Simulated WhatsApp · clock ' + new Date(state.now).toLocaleString();
    if (!state.webhookConfigured) banner.textContent = 'No webhook URL configured: messages cannot reach Parley.';
    templates = state.templates;
    var key = JSON.stringify(state.transcript);
    if (key === lastRendered) return;
    lastRendered = key;
    chat.textContent = '';
    var unread = false;
    state.transcript.forEach(function (e) {
      var box = el('div', 'msg ' + (e.direction === 'inbound' ? 'in' : e.direction === 'outbound' ? 'out' : 'refused'));
      if (e.direction === 'inbound') renderInbound(box, e.message);
      else if (e.direction === 'outbound') { renderOutbound(box, e.message); if (e.status === 'delivered' || e.status === 'sent') unread = true; }
      else box.textContent = 'The business tried to write outside the 24-hour window: ' + e.message.message;
      var meta = el('div', 'meta', new Date(e.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
      if (e.direction === 'outbound' && e.status === 'failed') meta.appendChild(el('span', null, ' ⚠ not delivered'));
      box.appendChild(meta);
      chat.appendChild(box);
    });
    chat.scrollTop = chat.scrollHeight;
    if (unread && document.visibilityState === 'visible') api('/sim/read', {});
  }
  function poll() {
    var id = who().waId;
    fetch('/sim/state?waId=' + encodeURIComponent(id)).then(function (r) { return r.json(); }).then(render).catch(function () { banner.textContent = 'The simulator is not answering.'; });
  }
  poll();
  setInterval(poll, 1000);
})();
</script>
</body>
</html>
`;
