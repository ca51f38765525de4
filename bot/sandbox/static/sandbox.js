// The sandbox page: renders what the bot sent (Block Kit) and turns clicks into requests that
// the sandbox server signs and sends to the bot as Slack would. No framework, no build step.
"use strict";

const $ = (sel) => document.querySelector(sel);
let state = null;
let user = localStorage.getItem("sandbox-user") || "U0DEMOOPS";
let pane = "channel";
let poll = null;

// --- talking to the sandbox server -------------------------------------------------------------

async function send(what, data) {
  const r = await fetch(`/sandbox/${what}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user, ...data }),
  });
  if (!r.ok) showNote(`The sandbox refused that (${r.status}).`, true);
  await refresh();
}

async function refresh(since) {
  if (poll) poll.abort();
  const mine = new AbortController();
  poll = mine;
  const query = since === undefined ? "" : `&since=${since}`;
  try {
    const r = await fetch(`/sandbox/state?user=${encodeURIComponent(user)}${query}`, { signal: mine.signal });
    if (!r.ok) throw new Error(`state ${r.status}`);
    state = await r.json();
    render();
  } catch (e) {
    if (mine.signal.aborted) return;
    await new Promise((ok) => setTimeout(ok, 1000)); // the server restarting: try again soon
  }
  if (poll === mine) refresh(state ? state.version : undefined);
}

// --- mrkdwn ------------------------------------------------------------------------------------

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function unesc(s) {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function userName(id) {
  const u = state && state.users.find((x) => x.id === id);
  return u ? u.name : id;
}

function link(inner) {
  const [target, label] = inner.split("|", 2);
  if (target.startsWith("@")) return `<span class="mention">@${esc(label || userName(target.slice(1)))}</span>`;
  if (target.startsWith("#")) return `<span class="mention">#${esc(label || (state ? state.channel.name : target.slice(1)))}</span>`;
  if (target.startsWith("!date^")) {
    const when = new Date(parseInt(target.split("^")[1], 10) * 1000);
    return `<span class="date">${esc(isNaN(when) ? label || "" : when.toLocaleString([], { dateStyle: "medium", timeStyle: "short" }))}</span>`;
  }
  if (target.startsWith("!")) return `<span class="mention">@${esc(label || target.slice(1))}</span>`;
  if (!/^(https?:|mailto:)/.test(unesc(target))) return esc(unesc(label || target));
  return `<a href="${esc(unesc(target))}" target="_blank" rel="noopener">${esc(unesc(label || target))}</a>`;
}

function inline(s) {
  return esc(unesc(s))
    .replace(/`([^`\n]+)`/g, "<code>$1</code>")
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, "$1<s>$2</s>");
}

function mrkdwn(text) {
  const parts = String(text).split("```");
  return parts.map((part, i) => {
    if (i % 2 === 1) return `<pre>${esc(unesc(part))}</pre>`;
    const lines = part.split("\n").map((line) => {
      const quote = line.startsWith("&gt; ") || line.startsWith("> ");
      const body = quote ? line.replace(/^(&gt;|>) /, "") : line;
      const html = body.split(/(<[^<>]+>)/).map((seg) =>
        seg.startsWith("<") && seg.endsWith(">") ? link(seg.slice(1, -1)) : inline(seg)).join("");
      return quote ? `<blockquote>${html}</blockquote>` : html + "<br>";
    });
    return lines.join("").replace(/<br>$/, "");
  }).join("");
}

function textOf(obj) {
  if (!obj) return "";
  return obj.type === "mrkdwn" ? mrkdwn(obj.text) : esc(obj.text).replace(/\n/g, "<br>");
}

// --- Block Kit ---------------------------------------------------------------------------------

function el(tag, cls, html) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (html !== undefined) e.innerHTML = html;
  return e;
}

// `where` says where an element lives: {kind: "message", ts} | {kind: "home"} | {kind: "modal", view_id}
function element(elt, blockId, where, inInput) {
  const act = (extra) => send("click", {
    where,
    action: { type: elt.type, action_id: elt.action_id, block_id: blockId, ...extra },
  });
  if (elt.type === "button") {
    const b = el("button", `btn ${elt.style || ""}`, textOf(elt.text));
    b.type = "button";
    b.onclick = () => confirmThen(elt.confirm, () => {
      if (elt.url) window.open(elt.url, "_blank", "noopener");
      b.disabled = true;
      const extra = { text: elt.text };
      if (elt.value !== undefined) extra.value = elt.value;
      if (elt.url) extra.url = elt.url;
      act(extra);
    });
    return b;
  }
  if (elt.type === "overflow") {
    const wrap = el("span", "overflow");
    const b = el("button", "btn", "⋮");
    b.type = "button";
    b.setAttribute("aria-label", "More actions");
    const menu = el("div", "menu");
    menu.hidden = true;
    for (const opt of elt.options) {
      const item = el("button", "", textOf(opt.text));
      item.type = "button";
      item.onclick = () => { menu.hidden = true; confirmThen(elt.confirm, () => act({ selected_option: opt })); };
      menu.appendChild(item);
    }
    b.onclick = (ev) => { ev.stopPropagation(); menu.hidden = !menu.hidden; };
    wrap.append(b, menu);
    return wrap;
  }
  if (elt.type === "static_select") {
    const s = el("select", "el");
    s.dataset.actionId = elt.action_id;
    s.dataset.type = elt.type;
    s.appendChild(new Option(elt.placeholder ? elt.placeholder.text : "Select an item", ""));
    const groups = elt.option_groups ? elt.option_groups.flatMap((g) => g.options) : elt.options || [];
    for (const opt of groups) {
      const o = new Option(opt.text.text, opt.value);
      o.dataset.label = opt.text.text;
      s.appendChild(o);
    }
    if (elt.initial_option) s.value = elt.initial_option.value;
    if (!inInput) {
      s.onchange = () => {
        const opt = groups.find((o) => o.value === s.value);
        if (opt) confirmThen(elt.confirm, () => act({ selected_option: opt }));
      };
    }
    return s;
  }
  if (["plain_text_input", "email_text_input", "url_text_input", "number_input"].includes(elt.type)) {
    const input = elt.multiline ? el("textarea", "el") : el("input", "el");
    if (!elt.multiline) input.type = elt.type === "email_text_input" ? "email" : "text";
    input.dataset.actionId = elt.action_id;
    input.dataset.type = elt.type;
    if (elt.placeholder) input.placeholder = elt.placeholder.text;
    if (elt.initial_value) input.value = elt.initial_value;
    if (elt.max_length) input.maxLength = elt.max_length;
    return input;
  }
  if (elt.type === "image") return el("span", "image", `[image: ${esc(elt.alt_text || "")}]`);
  if (elt.type === "mrkdwn" || elt.type === "plain_text") return el("span", "", textOf(elt));
  return el("span", "image", `[${esc(elt.type)}]`);
}

function block(b, where, errors) {
  const box = el("div", `block ${b.type}`);
  if (b.block_id) box.dataset.blockId = b.block_id;
  if (b.type === "header") box.innerHTML = textOf(b.text);
  else if (b.type === "divider") return el("hr", "divider");
  else if (b.type === "context") {
    for (const e of b.elements) box.appendChild(element(e, b.block_id, where));
  } else if (b.type === "section") {
    const text = el("div", "text", b.text ? textOf(b.text) : "");
    if (b.fields) {
      const grid = el("div", "fields");
      for (const f of b.fields) grid.appendChild(el("div", "field", textOf(f)));
      text.appendChild(grid);
    }
    box.appendChild(text);
    if (b.accessory) box.appendChild(element(b.accessory, b.block_id, where));
  } else if (b.type === "actions") {
    for (const e of b.elements) box.appendChild(element(e, b.block_id, where));
  } else if (b.type === "input") {
    const error = errors && errors[b.block_id];
    box.classList.toggle("has-error", Boolean(error));
    const label = el("label", "", textOf(b.label));
    if (b.optional) label.appendChild(el("span", "optional", " (optional)"));
    const control = element(b.element, b.block_id, where, true);
    control.id = `input-${b.block_id}`;
    label.htmlFor = control.id;
    box.appendChild(label);
    box.appendChild(control);
    if (b.hint) box.appendChild(el("div", "hintline", textOf(b.hint)));
    if (error) box.appendChild(el("div", "error", esc(error)));
  } else if (b.type === "image") {
    box.appendChild(el("span", "image", `[image: ${esc(b.alt_text || "")}]`));
  } else if (b.type === "rich_text") {
    box.textContent = JSON.stringify(b.elements).slice(0, 200);
  } else {
    box.textContent = `[${b.type}]`;
  }
  return box;
}

function blocks(list, where, errors) {
  const frag = document.createDocumentFragment();
  for (const b of list || []) frag.appendChild(block(b, where, errors));
  return frag;
}

// --- messages ----------------------------------------------------------------------------------

function message(m) {
  const bot = m.user === state.bot;
  const row = el("div", `msg${m.ephemeral ? " ephemeral" : ""}`);
  row.dataset.ts = m.ts;
  const name = bot ? "Customer Overview" : userName(m.user);
  row.appendChild(el("div", `avatar${bot ? " bot" : ""}`, esc(name[0])));
  const body = el("div", "body");
  const time = new Date(parseFloat(m.ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  body.appendChild(el("div", "meta",
    `<span class="name">${esc(name)}</span>${bot ? '<span class="badge">APP</span>' : ""}${time}` +
    (m.edited ? " (edited)" : "") + (m.ephemeral ? ' · <span class="only-you">Only visible to you</span>' : "")));
  const where = { kind: "message", ts: m.ts };
  if (m.blocks && m.blocks.length) body.appendChild(blocks(m.blocks, where));
  else body.appendChild(el("div", "block", mrkdwn(m.text)));
  row.appendChild(body);
  return row;
}

function renderMessages() {
  const box = $("#messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  box.innerHTML = "";
  const replies = {};
  for (const m of state.messages) {
    if (m.thread_ts && m.thread_ts !== m.ts) (replies[m.thread_ts] = replies[m.thread_ts] || []).push(m);
  }
  for (const m of state.messages) {
    if (m.thread_ts && m.thread_ts !== m.ts) continue;
    const row = message(m);
    const thread = replies[m.ts];
    if (thread) {
      const d = el("details", "thread");
      d.open = true;
      d.appendChild(el("summary", "", `${thread.length} ${thread.length === 1 ? "reply" : "replies"}`));
      for (const r of thread) d.appendChild(message(r));
      row.querySelector(".body").appendChild(d);
    }
    box.appendChild(row);
  }
  if (!state.messages.length) {
    box.appendChild(el("div", "msg", "<div class='body meta'>This is the start of #customer-ops. Type <code>/customers</code> below.</div>"));
  }
  if (atBottom) box.scrollTop = box.scrollHeight;
}

// --- modals, Home, confirm dialogs -------------------------------------------------------------

let shownModal = "";

function inputValues(root) {
  const values = {};
  for (const blockEl of root.querySelectorAll(".block.input")) {
    const e = blockEl.querySelector("[data-action-id]");
    if (!e) continue;
    let v;
    if (e.dataset.type === "static_select") {
      const o = e.selectedOptions[0];
      v = { type: "static_select", selected_option: e.value ? { text: { type: "plain_text", text: o.dataset.label }, value: e.value } : null };
    } else {
      v = { type: e.dataset.type, value: e.value === "" ? null : e.value };
    }
    values[blockEl.dataset.blockId] = { [e.dataset.actionId]: v };
  }
  return values;
}

function renderModal() {
  const layer = $("#overlay");
  const stack = state.modals;
  const top = stack[stack.length - 1];
  const key = top ? JSON.stringify(top) : "";
  if (key === shownModal) return;
  // Keep what the person typed when only the errors changed.
  const typed = {};
  for (const e of layer.querySelectorAll("[data-action-id]")) typed[e.closest(".block").dataset.blockId] = e.value;
  const sameView = top && layer.dataset.viewId === top.id;
  shownModal = key;
  layer.innerHTML = "";
  layer.hidden = !top;
  if (!top) return;
  layer.dataset.viewId = top.id;
  const v = top.view;
  const box = el("form", "modal");
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-label", v.title ? v.title.text : "Modal");
  const head = el("header", "", esc(v.title ? v.title.text : ""));
  const x = el("button", "x", "×");
  x.type = "button";
  x.setAttribute("aria-label", "Close");
  x.onclick = () => send("close", { view_id: top.id });
  head.appendChild(x);
  const content = el("div", "content");
  content.appendChild(blocks(v.blocks, { kind: "modal", view_id: top.id }, top.errors));
  if (v.callback_id === "modal_connect") {
    // Said by the sandbox, not the bot: here Vision One is a local demo API.
    content.appendChild(el("div", "sandbox-note",
      "Sandbox: any API token of 20 or more characters works (e.g. <code>demo-token-0123456789</code>) " +
      "and its figures follow from it; a token containing <code>revoked</code> is refused, " +
      "to show what happens then."));
  }
  const foot = el("footer");
  const close = el("button", "btn", esc(v.close ? v.close.text : "Cancel"));
  close.type = "button";
  close.onclick = () => send("close", { view_id: top.id });
  foot.appendChild(close);
  if (v.submit) {
    const submit = el("button", "btn primary", esc(v.submit.text));
    submit.type = "submit";
    foot.appendChild(submit);
  }
  box.onsubmit = (ev) => {
    ev.preventDefault();
    for (const b of box.querySelectorAll("footer .btn")) b.disabled = true;
    send("submit", { view_id: top.id, values: inputValues(box) });
  };
  box.append(head, content, foot);
  layer.appendChild(box);
  if (sameView) {
    for (const e of layer.querySelectorAll("[data-action-id]")) {
      const id = e.closest(".block").dataset.blockId;
      if (id in typed) e.value = typed[id];
    }
  }
}

function confirmThen(confirm, go) {
  if (!confirm) return go();
  const layer = $("#confirm-layer");
  layer.innerHTML = "";
  const box = el("div", "modal confirm");
  box.setAttribute("role", "alertdialog");
  box.setAttribute("aria-label", confirm.title ? confirm.title.text : "Are you sure?");
  box.appendChild(el("header", "", esc(confirm.title ? confirm.title.text : "Are you sure?")));
  box.appendChild(el("div", "content", textOf(confirm.text)));
  const foot = el("footer");
  const no = el("button", "btn", esc(confirm.deny ? confirm.deny.text : "Cancel"));
  const yes = el("button", `btn ${confirm.style === "danger" ? "danger" : "primary"}`,
    esc(confirm.confirm ? confirm.confirm.text : "Yes"));
  no.onclick = () => { layer.hidden = true; };
  yes.onclick = () => { layer.hidden = true; go(); };
  foot.append(no, yes);
  box.appendChild(foot);
  layer.appendChild(box);
  layer.hidden = false;
}

function renderHome() {
  const box = $("#home");
  box.innerHTML = "";
  if (!state.home) {
    box.appendChild(el("div", "meta", "Opening the Home tab…"));
    return;
  }
  box.appendChild(blocks(state.home.blocks, { kind: "home" }));
}

const seenNotes = new Set();

function showNote(text, problem) {
  const n = el("div", `note${problem ? " problem" : ""}`, esc(text));
  $("#notes").appendChild(n);
  setTimeout(() => n.remove(), 6000);
}

function render() {
  $("#channel").hidden = pane !== "channel";
  $("#home").hidden = pane !== "home";
  $("#pane-title").textContent = pane === "channel" ? `# ${state.channel.name}` : "Customer Overview · Home";
  for (const b of document.querySelectorAll(".nav")) b.classList.toggle("active", b.dataset.pane === pane);
  renderMessages();
  renderHome();
  renderModal();
  for (const [i, text] of state.notes.entries()) {
    const key = `${user}:${i}:${text}`;
    if (!seenNotes.has(key)) { seenNotes.add(key); showNote(text, false); }
  }
  for (const text of state.problems) {
    if (!seenNotes.has(text)) { seenNotes.add(text); showNote(`Slack would refuse this: ${text}`, true); }
  }
}

// --- wiring ------------------------------------------------------------------------------------

async function start() {
  const first = await (await fetch(`/sandbox/state?user=${encodeURIComponent(user)}`)).json();
  const pick = $("#user");
  for (const u of first.users) pick.appendChild(new Option(`${u.name} (${u.role})`, u.id));
  if (!first.users.some((u) => u.id === user)) user = first.users[0].id;
  pick.value = user;
  pick.onchange = () => {
    user = pick.value;
    localStorage.setItem("sandbox-user", user);
    shownModal = "";
    if (pane === "home") send("home", {});
    else refresh();
  };
  for (const b of document.querySelectorAll(".nav")) {
    b.onclick = () => {
      pane = b.dataset.pane;
      if (pane === "home") send("home", {});
      else refresh();
    };
  }
  $("#composer").onsubmit = (ev) => {
    ev.preventDefault();
    const input = $("#command");
    const text = input.value.trim();
    if (!text) return;
    if (!text.startsWith("/customers")) {
      showNote("The sandbox only knows the /customers command.", true);
      return;
    }
    input.value = "";
    send("command", { text });
  };
  refresh();
}

document.addEventListener("click", () => {
  for (const m of document.querySelectorAll(".menu")) m.hidden = true;
});
start();
