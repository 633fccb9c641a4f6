// The reader's comment widget. It talks only to the newsroom's server (/demo/...), which
// forwards to Vigie with the site's key. Comment text is always set with textContent.
(function () {
  "use strict";
  const section = document.getElementById("commentaires");
  const endpoint = section.dataset.endpoint;
  const list = document.getElementById("comment-list");
  const messages = document.getElementById("messages");
  const form = document.getElementById("comment-form");
  const nameInput = document.getElementById("author-name");
  const POLL_MS = 1000;
  const POLL_TRIES = 30;

  nameInput.value = localStorage.getItem("vigie-demo-name") || "";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function request(method, url, payload) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrfToken();
      options.body = JSON.stringify(payload);
    }
    const response = await fetch(url, options);
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    return { status: response.status, data };
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function errorText(data) {
    const error = (data && data.error) || {};
    const fields = error.fields || {};
    const details = Object.values(fields).flat().join(" ");
    return (error.message || "Une erreur est survenue.") + (details ? " " + details : "");
  }

  function notice(kind, text, quote) {
    const box = el("p", "notice " + kind, text);
    if (quote) box.appendChild(el("span", "quote", "« " + quote + " »"));
    messages.prepend(box);
    return box;
  }

  const dateFormat = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeStyle: "short" });

  function countAll(comments) {
    return comments.reduce((n, c) => n + 1 + countAll(c.replies || []), 0);
  }

  function renderComment(comment) {
    const item = el("li", "comment");
    item.id = "comment-" + comment.id;
    item.dataset.commentId = comment.id;
    if (comment.deleted) {  // a tombstone: no text, no author, its replies in place
      item.appendChild(el("p", "comment-body comment-deleted", "Commentaire supprimé par son auteur."));
      if (comment.replies && comment.replies.length) {
        const replies = el("ol", "replies");
        comment.replies.forEach((r) => replies.appendChild(renderComment(r)));
        item.appendChild(replies);
      }
      return item;
    }
    const head = el("div", "comment-head");
    head.appendChild(el("span", "comment-author", comment.author.name));
    head.appendChild(el("span", "comment-date", dateFormat.format(new Date(comment.created_at))));
    item.appendChild(head);
    item.appendChild(el("p", "comment-body", comment.body));
    const actions = el("div", "comment-actions");
    const reply = el("button", "reply", "Répondre");
    reply.type = "button";
    reply.addEventListener("click", () => openReply(item, comment));
    const report = el("button", "report", "Signaler");
    report.type = "button";
    report.addEventListener("click", () => openReport(item, comment));
    actions.append(reply, report);
    item.appendChild(actions);
    if (comment.replies && comment.replies.length) {
      const replies = el("ol", "replies");
      comment.replies.forEach((r) => replies.appendChild(renderComment(r)));
      item.appendChild(replies);
    }
    return item;
  }

  async function load() {
    const { status, data } = await request("GET", endpoint);
    if (status !== 200) {
      notice("error", "Impossible de charger les commentaires : " + errorText(data));
      return;
    }
    list.replaceChildren(...data.comments.map(renderComment));
    document.getElementById("comment-count").textContent = "(" + countAll(data.comments) + ")";
    document.getElementById("empty").hidden = data.comments.length > 0;
  }

  function newKey() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  async function post(name, body, parentId, button) {
    if (!body.trim()) {
      notice("error", "Votre commentaire est vide.");
      return false;
    }
    localStorage.setItem("vigie-demo-name", name);
    button.disabled = true;
    try {
      const payload = { name, body, idempotency_key: newKey() };
      if (parentId) payload.parent_id = parentId;
      const { status, data } = await request("POST", endpoint, payload);
      if (status !== 202) {
        notice("error", "Votre commentaire n'a pas pu être envoyé : " + errorText(data));
        return false;
      }
      const box = notice("pending", "Votre commentaire est en attente de modération.", body);
      box.dataset.commentId = data.id;
      follow(data.id, box, body);
      return true;
    } finally {
      button.disabled = false;
    }
  }

  // Poll the comment's status for a short while: it is published within seconds when clean.
  async function follow(id, box, body) {
    for (let i = 0; i < POLL_TRIES; i++) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const { status, data } = await request("GET", endpoint + "/" + id);
      if (status !== 200) continue;
      if (data.visible) {
        box.className = "notice ok";
        box.replaceChildren("Votre commentaire est publié.");
        await load();
        const shown = document.getElementById("comment-" + id);
        if (shown) shown.scrollIntoView({ block: "center" });
        return;
      }
      if (data.status === "rejected") {
        box.className = "notice error";
        box.replaceChildren(el("span", "", "Votre commentaire n'a pas été publié : il ne respecte pas notre charte."),
          el("span", "quote", "« " + body + " »"));
        return;
      }
      if (data.status === "held" && box.dataset.status !== "held") {
        // Keep polling: a moderator may approve it while the reader is still here.
        box.dataset.status = "held";
        box.replaceChildren(
          el("span", "", "Votre commentaire est en attente de modération : un modérateur va le relire avant publication."),
          el("span", "quote", "« " + body + " »"));
      }
    }
  }

  // The pre-submit check: a draft that would be held or rejected gets a warning first, and
  // the reader chooses to reword it or to post it anyway. If the check fails, post.
  const nudgeUrl = section.dataset.checkEndpoint;
  let nudge = null;

  function closeNudge() {
    if (nudge) nudge.remove();
    nudge = null;
  }

  async function wouldBeHeld(name, body) {
    if (!nudgeUrl || !body.trim()) return null;
    try {
      const { status, data } = await request("POST", nudgeUrl, { name, body });
      return status === 200 && data.would_be !== "published" ? data : null;
    } catch (e) {
      return null;
    }
  }

  function showNudge(body, check, onPost, onReword) {
    closeNudge();
    nudge = el("div", "notice warning nudge");
    nudge.setAttribute("role", "alert");
    nudge.appendChild(el("p", "", "Votre commentaire risque d'être retenu : voulez-vous le reformuler ?"));
    const words = [...new Set((check.spans || []).map((s) => body.slice(s.start, s.end)))];
    if (words.length) nudge.appendChild(el("p", "nudge-words", "En cause : " + words.join(", ")));
    const reword = el("button", "reword", "Reformuler");
    reword.type = "button";
    reword.addEventListener("click", () => { closeNudge(); onReword(); });
    const anyway = el("button", "post-anyway", "Publier quand même");
    anyway.type = "button";
    anyway.addEventListener("click", () => { closeNudge(); onPost(); });
    nudge.append(reword, anyway);
    return nudge;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = form.elements.body;
    const button = form.querySelector("button");
    const name = nameInput.value.trim();
    const send = async () => { if (await post(name, body.value, null, button)) body.value = ""; };
    button.disabled = true;
    const check = await wouldBeHeld(name, body.value);
    button.disabled = false;
    if (!check) return send();
    form.after(showNudge(body.value, check, send, () => body.focus()));
  });

  function closeForms(item) {
    item.querySelectorAll(":scope > form").forEach((f) => f.remove());
  }

  function openReply(item, comment) {
    closeForms(item);
    const reply = el("form", "comment-form reply-form");
    const label = el("label", "", "Répondre à " + comment.author.name);
    const area = document.createElement("textarea");
    area.name = "body";
    area.rows = 3;
    area.maxLength = 5000;
    label.htmlFor = area.id = "reply-to-" + comment.id;
    const send = el("button", "", "Publier la réponse");
    send.type = "submit";
    reply.append(label, area, send);
    reply.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (await post(nameInput.value.trim(), area.value, comment.id, send)) reply.remove();
    });
    item.querySelector(".comment-actions").after(reply);
    area.focus();
  }

  function openReport(item, comment) {
    closeForms(item);
    const reportForm = document.getElementById("report-template").content.firstElementChild.cloneNode(true);
    reportForm.querySelector(".cancel").addEventListener("click", () => reportForm.remove());
    reportForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const reason = reportForm.elements.reason.value;
      const { status, data } = await request("POST", endpoint + "/" + comment.id + "/report", { reason });
      reportForm.remove();
      if (status === 200 || status === 201) notice("ok", data.message);
      else notice("error", "Le signalement n'a pas pu être envoyé : " + errorText(data));
    });
    item.querySelector(".comment-actions").after(reportForm);
  }

  load();
})();
