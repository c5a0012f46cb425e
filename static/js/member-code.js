// The member code on the member home: a new code every refresh period and on a tap, so the
// QR code on screen is always live and a screenshot soon worthless (the till refuses a code
// once it has expired). While a fetch runs the card shows a loading state; when it fails the
// card says why and offers a retry, and once the last code has expired it hides it.
(function () {
  "use strict";
  var card = document.querySelector("[data-member-code-card]");
  if (!card) { return; }
  var digits = card.querySelector("[data-code-digits]");
  var status = card.querySelector("[data-code-status]");
  var retry = card.querySelector('[data-action="retry-code"]');
  var refreshMs = Number(card.dataset.refreshSeconds) * 1000;
  var ttlMs = Number(card.dataset.ttlSeconds) * 1000;
  var RETRY_MS = 15000;
  var GROUP = /(\d{6})(?=\d)/g;
  // A code's age is counted on this device from when it arrived, not read from expires_at:
  // a phone whose clock is off would otherwise hide a good code or keep showing a dead one.
  var receivedAt = Date.now();
  var lastAttempt = 0;
  var busy = false;
  var failed = false;
  var live = true;
  var reason = null;  // why the last fetch failed

  function text(name) { return card.getAttribute("data-text-" + name) || ""; }

  function setState(state, message) {
    card.dataset.state = state;
    card.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    status.textContent = message;
    retry.hidden = !(state === "error" || state === "expired");
  }

  function expire() {
    live = false;
    card.dataset.live = "false";
    digits.textContent = "—";
    digits.removeAttribute("data-member-code");
    if (!busy) { setState("expired", text(reason || "expired")); }
  }

  function fail(why) {
    busy = false;
    failed = true;
    reason = why;
    if (live && Date.now() - receivedAt < ttlMs) {
      setState("error", text(why));
    } else {
      expire();
    }
  }

  function show(code) {
    // The new QR image is loaded before it replaces the old one, so the code on screen
    // never blinks out while a cashier is scanning it.
    var img = new Image();
    var old = card.querySelector("[data-code-image]");
    img.alt = old.alt;
    img.width = old.width;
    img.height = old.height;
    img.setAttribute("data-code-image", "");
    img.onload = function () {
      old.replaceWith(img);
      digits.textContent = code.replace(GROUP, "$1 ");
      digits.setAttribute("data-member-code", code);
      busy = false;
      failed = false;
      reason = null;
      live = true;
      card.dataset.live = "true";
      setState("ready", text("ready"));
    };
    img.onerror = function () { fail("error"); };
    img.src = card.dataset.svg.replace("{code}", encodeURIComponent(code));
  }

  function refresh() {
    if (busy) { return; }
    busy = true;
    lastAttempt = Date.now();
    setState("loading", text("loading"));
    if (navigator.onLine === false) { fail("offline"); return; }
    fetch(card.dataset.api, {
      credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401) { throw new Error("signed-out"); }
      if (!response.ok) { throw new Error("error"); }
      return response.json();
    }).then(function (data) {
      receivedAt = Date.now();
      show(data.code);
    }).catch(function (error) {
      var reason = error && error.message === "signed-out" ? "signed-out"
        : error && error.message === "error" ? "error" : "offline";
      fail(reason);
    });
  }

  function tick() {
    if (live && Date.now() - receivedAt >= ttlMs) { expire(); }
    if (busy || document.hidden) { return; }
    var due = failed ? lastAttempt + RETRY_MS : receivedAt + refreshMs;
    if (Date.now() >= due) { refresh(); }
  }

  card.querySelector('[data-action="refresh-code"]').addEventListener("click", refresh);
  retry.addEventListener("click", refresh);
  // Back on the page after a while (a locked phone, another app, the back button): the code
  // on screen may be old, so the check runs at once rather than at the next tick.
  document.addEventListener("visibilitychange", tick);
  window.addEventListener("pageshow", function (event) { if (event.persisted) { refresh(); } });
  window.addEventListener("online", function () { if (failed) { refresh(); } });
  window.setInterval(tick, 1000);
})();
