// The points mall (积分商城): 兑换 opens a confirmation sheet ("用 300 积分兑换 …？");
// 确认兑换 posts to the API with the page's CSRF header, then shows the coupon (the page
// reloads on it, with the new balance and stock). Without this script the links and the
// sheet's form do the same through the server.
//
// One Idempotency-Key per confirmation: a second tap while the first is on its way is
// ignored, and a retry after a lost answer sends the same key, so it redeems once.
(function () {
  "use strict";
  var sheet = document.querySelector("[data-sheet]");
  if (!sheet || typeof sheet.showModal !== "function") { return; }
  var form = sheet.querySelector("[data-sheet-form]");
  if (!form) {  // the sheet shows a redemption's coupon: its links do the rest
    if (sheet.open) { sheet.close(); sheet.showModal(); }
    return;
  }
  var question = sheet.querySelector("[data-sheet-question]");
  var afterLine = sheet.querySelector("[data-sheet-after]");
  var errorLine = sheet.querySelector("[data-sheet-error]");
  var rewardInput = sheet.querySelector("[data-sheet-reward]");
  var keyInput = sheet.querySelector("[data-sheet-key]");
  var confirmButton = sheet.querySelector('[data-action="confirm"]');
  var confirmLabel = sheet.querySelector("[data-confirm-label]");
  var cancel = sheet.querySelector('[data-action="cancel"]');
  var balanceEl = document.querySelector("[data-balance]");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var busy = false;
  var cost = 0;
  var stale = false;  // a final refusal: the page's balance or stock is out of date

  function text(name) { return sheet.getAttribute("data-text-" + name) || ""; }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function counted(name, n, values) {
    // The page carries each text for one and for many (English: "1 point", "5 points").
    var all = { n: n };
    for (var k in values) { if (Object.prototype.hasOwnProperty.call(values, k)) { all[k] = values[k]; } }
    return fill(text(name + (n === 1 ? "-one" : "-other")), all);
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function setState(state, message, final) {
    sheet.dataset.state = state;
    sheet.setAttribute("aria-busy", state === "loading" ? "true" : "false");
    errorLine.textContent = message || "";
    confirmButton.hidden = !!final;
    confirmButton.disabled = state === "loading";
    confirmLabel.textContent = state === "loading" ? text("loading")
      : state === "error" ? text("retry") : text("confirm");
    cancel.textContent = final ? text("close") : text("cancel");
  }

  function open(card) {
    var balance = Number(balanceEl ? balanceEl.dataset.balance : 0);
    cost = Number(card.dataset.cost);
    rewardInput.value = card.dataset.rewardId;
    keyInput.value = newKey();  // a new confirmation, a new key
    question.textContent = counted("question", cost, { name: card.dataset.name });
    afterLine.textContent = balance >= cost ? counted("after", balance - cost) : "";
    setState("confirm", "", false);
    if (sheet.open) { sheet.close(); }
    sheet.showModal();
    confirmButton.focus();
  }

  function refused(status, body) {
    var code = body && body.error ? body.error.code : null;
    if (status === 401) {
      setState("error", text("signed-out"), true);
      return;
    }
    var message = code ? sheet.getAttribute("data-text-refused-" + code.replace(/_/g, "-")) : null;
    if (!message) {
      setState("error", text("refused-error"), false);
    } else {
      // A refusal that trying again cannot change ends the confirmation.
      var final = code !== "csrf_failed";
      if (final) { afterLine.textContent = ""; stale = true; }
      setState("error", fill(message, { cost: cost }), final);
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest('[data-action="redeem"]');
    if (!link) { return; }
    event.preventDefault();
    open(link.closest("[data-reward]"));
  });

  cancel.addEventListener("click", function (event) {
    event.preventDefault();
    if (busy) { return; }  // the answer is on its way: the sheet shows it
    sheet.close();
  });

  sheet.addEventListener("cancel", function (event) {
    if (busy) { event.preventDefault(); }  // Esc while redeeming
  });

  sheet.addEventListener("close", function () {
    if (stale) {  // show the balance and stock as they are now
      window.location.assign(window.location.pathname);
    } else if (window.location.search) {  // the server opened it: drop ?confirm= from the address
      window.history.replaceState(null, "", window.location.pathname);
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy || confirmButton.hidden) { return; }
    if (navigator.onLine === false) { setState("error", text("offline"), false); return; }
    busy = true;
    setState("loading", "", false);
    var rewardId = rewardInput.value;
    fetch(fill(sheet.dataset.api, { id: encodeURIComponent(rewardId) }), {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Accept": "application/json", "Idempotency-Key": keyInput.value,
                 "X-CSRF-Token": csrfMeta ? csrfMeta.content : "" }
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.status === 201 && body) {
          window.location.assign(fill(sheet.dataset.doneUrl, { id: encodeURIComponent(body.id) }));
          return;
        }
        busy = false;
        refused(response.status, body);
      });
    }).catch(function () {
      // The answer was lost, not necessarily the redemption: the retry keeps the key.
      busy = false;
      setState("error", text("offline"), false);
    });
  });

  // Opened by the server (?confirm=): the same sheet, as a modal.
  if (sheet.open && rewardInput.value) {
    var card = document.querySelector('[data-reward][data-reward-id="' + rewardInput.value + '"]');
    if (card && sheet.dataset.state === "confirm") {
      sheet.close();
      open(card);
    }
  }
})();
