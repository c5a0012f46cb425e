// The daily check-in card on the member home: the 签到 button posts to the API with the
// page's CSRF header and updates the card in place (the streak, today's cell, the points
// in the header). Without this script the button is a plain form post that redirects back.
//
// One Idempotency-Key per check-in: after a network failure the retry sends the same key,
// so a check-in that did reach the server is answered as the success it was rather than as
// "already checked in".
(function () {
  "use strict";
  var card = document.querySelector("[data-check-in-card]");
  if (!card) { return; }
  var form = card.querySelector("[data-check-in-form]");
  var button = card.querySelector('[data-action="check-in"]');
  var label = card.querySelector("[data-button-label]");
  var status = card.querySelector("[data-check-in-status]");
  var streakLine = card.querySelector("[data-streak-line]");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var busy = false;
  var pendingKey = null;

  function text(name) { return card.getAttribute("data-text-" + name) || ""; }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function counted(name, n) {
    // The page carries each text for one and for many (English: "1 point", "5 points").
    return fill(text(name + (n === 1 ? "-one" : "-other")), { n: n });
  }

  function rewardText(reward) {
    var parts = [];
    if (reward.points) { parts.push(counted("points", reward.points)); }
    if (reward.draws) { parts.push(counted("draws", reward.draws)); }
    return parts.length ? parts.join(" + ") : text("reward-none");
  }

  function setState(state, message) {
    card.dataset.state = state;
    card.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    status.textContent = message;
    status.dataset.outcome = state;
    button.disabled = state === "loading" || state === "done" || state === "off";
    label.textContent = state === "loading" ? text("button-loading")
      : state === "done" ? text("button-done") : text("button");
  }

  function markToday() {
    var today = card.querySelector('.check-in-day[data-state="today"]');
    if (!today || today.dataset.checked === "true") { return; }
    today.dataset.checked = "true";
    var spoken = today.querySelector(".visually-hidden");
    if (spoken) { spoken.appendChild(document.createTextNode(text("checked"))); }
  }

  function showStreak(n) {
    // The sentence comes translated with a {n} in it; the number is set as text, never HTML.
    var parts = text("streak").split("{n}");
    streakLine.textContent = "";
    streakLine.appendChild(document.createTextNode(parts[0] || ""));
    var strong = document.createElement("strong");
    strong.textContent = String(n);
    streakLine.appendChild(strong);
    streakLine.appendChild(document.createTextNode(parts.slice(1).join("{n}")));
  }

  function addPoints(n) {
    var shown = document.querySelector("[data-points]");
    if (shown && n) { shown.textContent = String(Number(shown.textContent) + n); }
  }

  function refreshStreak() {
    // After "already checked in" (another tab, another phone): the streak as it stands.
    fetch(card.dataset.api, { credentials: "same-origin", cache: "no-store",
                              headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && data.streak) { showStreak(data.streak); } })
      .catch(function () { /* the card already says today is done */ });
  }

  function succeeded(body) {
    pendingKey = null;
    if (body.date !== card.dataset.today) {
      // The page was left open past midnight: its strip shows yesterday's cycle.
      window.location.assign("/m?check_in=done#check-in");
      return;
    }
    markToday();
    showStreak(body.streak);
    addPoints(body.reward.points);
    setState("done", fill(text("success"), { reward: rewardText(body.reward) }));
  }

  function refused(status, body) {
    pendingKey = null;
    var code = body && body.error ? body.error.code : null;
    if (code === "already_checked_in") {
      markToday();
      setState("done", text("already"));
      refreshStreak();
    } else if (code === "check_in_disabled") {
      setState("off", text("off"));
    } else if (status === 401) {
      setState("error", text("signed-out"));
    } else if (code === "csrf_failed") {
      setState("error", text("expired"));
    } else {
      setState("error", text("error"));
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy || button.disabled) { return; }
    if (navigator.onLine === false) { setState("error", text("offline")); return; }
    busy = true;
    pendingKey = pendingKey || newKey();
    setState("loading", text("loading"));
    fetch(card.dataset.api, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Accept": "application/json", "Idempotency-Key": pendingKey,
                 "X-CSRF-Token": csrfMeta ? csrfMeta.content : "" }
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        busy = false;
        if (response.status === 201 && body) { succeeded(body); } else { refused(response.status, body); }
      });
    }).catch(function () {
      // The answer was lost, not necessarily the check-in: the retry keeps the key.
      busy = false;
      setState("error", text("offline"));
    });
  });
})();
