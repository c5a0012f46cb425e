// Stored value at the till (储值): the member's balance, top-ups with the payment method the
// cashier took, and paying part of an order from the balance with the PIN the member types
// on this device. It plugs into till.js through the events that script tells (root.till
// has its helpers). The balance and the amount due come from the API; the order takes the
// smaller of the two from the balance (pay_with_balance), and the service checks it again.
// The PIN goes only into the order's body, never into a quote, and is not kept.
(function () {
  "use strict";
  var root = document.querySelector("[data-till]");
  var till = root && root.till;
  if (!till) return;
  var W = JSON.parse(document.getElementById("till-wallet-config").textContent);
  var $ = function (sel) { return root.querySelector(sel); };
  var el = {
    box: $("[data-wallet]"), balance: $("[data-wallet-balance]"), parts: $("[data-wallet-parts]"),
    loading: $("[data-wallet-loading]"), message: $("[data-wallet-message]"),
    form: $("[data-top-up]"), pay: $("input[name=top_up_pay]"), plans: $("[data-top-up-plans]"),
    open: $("[data-action=top-up-open]"), cancel: $("[data-action=top-up-cancel]"),
    confirm: $("[data-action=top-up-confirm]"),
    payBox: $("[data-balance-pay]"), use: $("[data-balance-use]"),
    useLabel: $("[data-balance-use-label]"), useNote: $("[data-balance-use-note]"),
    pinBox: $("[data-balance-pin-box]"), pin: $("input[name=balance_pin]"),
    quoteRow: $("[data-balance-quote]"), quoteAmount: $("[data-balance-quote-amount]"),
    receiptRow: $("[data-receipt-wallet-row]"), receiptAmount: $("[data-receipt-wallet]")
  };
  var state = fresh();
  var plansText = null;

  function fresh() {
    return { member: null, wallet: null, amount: null, topUpKey: null, busy: false, seq: 0 };
  }

  function newKey() {
    var bytes = new Uint8Array(9);
    window.crypto.getRandomValues(bytes);
    return "till-top-up-" + Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  function errorOf(result) {
    var code = result.data && result.data.error && result.data.error.code;
    return code || null;
  }

  // The balance

  function load() {
    var member = state.member;
    var seq = ++state.seq;
    el.loading.hidden = false;
    till.api("GET", "/api/v1/members/" + encodeURIComponent(member.id) + "/balance?limit=1")
      .then(function (result) {
        if (seq !== state.seq) return;
        el.loading.hidden = true;
        if (!result.ok) { till.say(el.message, till.errorText(result)); return; }
        show(result.data);
      });
  }

  function show(wallet) {
    state.wallet = wallet;
    el.box.setAttribute("data-balance", String(wallet.balance));
    el.balance.textContent = till.yuan(wallet.balance);
    el.parts.textContent = till.fill(W.parts, { principal: till.yuan(wallet.principal),
      bonus: till.yuan(wallet.bonus) });
    el.payBox.hidden = wallet.balance <= 0;
    if (wallet.balance <= 0) { el.use.checked = false; el.pinBox.hidden = true; }
    var note = "";
    if (wallet.pin_locked_until) {
      note = till.fill(W.locked, { time: new Date(wallet.pin_locked_until).toLocaleTimeString() });
    } else if (!wallet.pin_set) {
      note = W.noPin;
    }
    el.useNote.textContent = note;
    el.use.disabled = !wallet.pin_set || !!wallet.pin_locked_until;
    if (el.use.disabled) { el.use.checked = false; el.pinBox.hidden = true; }
    useLabel();
    showPart();
  }

  // The part of the order from the balance: all of the amount the balance covers.
  function part() {
    if (!el.use.checked || !state.wallet || state.amount === null) return 0;
    return Math.min(state.wallet.balance, state.amount);
  }

  function useLabel() {
    var amount = state.amount === null || !state.wallet ? null
      : Math.min(state.wallet.balance, state.amount);
    el.useLabel.textContent = amount ? till.fill(W.useAll, { amount: till.yuan(amount) })
      : till.fill(W.balance, { amount: state.wallet ? till.yuan(state.wallet.balance) : "—" });
  }

  // Top-ups

  function plans() {
    if (plansText !== null) { el.plans.textContent = plansText; return; }
    till.api("GET", "/api/v1/top-up-plans").then(function (result) {
      if (!result.ok || !result.data.plans.length) { plansText = ""; return; }
      plansText = till.fill(W.plans, { plans: result.data.plans.map(function (p) {
        return till.fill(W.plan, { pay: till.yuan(p.pay), bonus: till.yuan(p.bonus) });
      }).join("、") });
      el.plans.textContent = plansText;
    });
  }

  function openTopUp() {
    el.form.hidden = false;
    till.say(el.message, "");
    if (!state.topUpKey) state.topUpKey = newKey();
    plans();
    el.pay.focus();
  }

  function closeTopUp() {
    el.form.hidden = true;
    el.pay.value = "";
    el.confirm.textContent = W.topUp;
  }

  function topUp(event) {
    event.preventDefault();
    if (state.busy || !state.member) return;
    var pay = till.cents(el.pay.value);
    if (!pay) { till.say(el.message, W.badPay); el.pay.focus(); return; }
    var method = el.form.querySelector("input[name=top_up_method]:checked");
    var body = { pay: pay, payment_method: method ? method.value : "cash" };
    if (till.storeId) body.store_id = till.storeId;
    state.busy = true;
    el.confirm.disabled = true;
    el.confirm.textContent = W.toppingUp;
    var member = state.member;
    till.api("POST", "/api/v1/members/" + encodeURIComponent(member.id) + "/top-ups", body,
      { "Idempotency-Key": state.topUpKey }).then(function (result) {
      state.busy = false;
      el.confirm.disabled = false;
      el.confirm.textContent = till.fill(W.topUpConfirm, { amount: till.yuan(pay) });
      if (member !== state.member) return;
      if (result.status === 0) { till.say(el.message, till.errorText(result)); return; }
      if (!result.ok) {
        state.topUpKey = newKey();  // refused: nothing was credited, the next try is new
        till.say(el.message, till.errorText(result));
        return;
      }
      state.topUpKey = null;
      closeTopUp();
      till.say(el.message, till.fill(W.toppedUp, { pay: till.yuan(result.data.principal),
        bonus: till.yuan(result.data.bonus), balance: till.yuan(result.data.balance) }), "ok");
      load();
    });
  }

  // Wiring to till.js

  root.addEventListener("till:reset", function () {
    state = fresh();
    el.box.hidden = true;
    el.form.hidden = true;
    el.payBox.hidden = true;
    el.use.checked = false;
    el.pinBox.hidden = true;
    el.pin.value = "";
    el.quoteRow.hidden = true;
    el.receiptRow.hidden = true;
    till.say(el.message, "");
  });
  root.addEventListener("till:member", function (event) {
    state.member = event.detail;
    el.box.hidden = false;
    load();
  });
  // Only the order's body takes the balance part: a quote prices the order, the balance
  // part follows from the amount it gives.
  root.addEventListener("till:body", function (event) {
    var amount = event.detail.order ? part() : 0;
    if (!amount) return;
    event.detail.body.pay_with_balance = amount;
    event.detail.body.balance_pin = el.pin.value.trim();
  });
  function showPart() {
    var paid = part();
    el.quoteRow.hidden = !paid;
    el.quoteAmount.textContent = paid ? till.yuan(-paid) + " · " + (paid < state.amount
      ? till.fill(W.rest, { amount: till.yuan(state.amount - paid) }) : W.allPaid) : "";
  }
  root.addEventListener("till:quote", function (event) {
    state.amount = event.detail ? event.detail.amount : null;
    useLabel();
    showPart();
  });
  root.addEventListener("till:confirm", function (event) {
    if (part() && !/^[0-9]{6}$/.test(el.pin.value.trim())) {
      event.detail.refusal = W.enterPin;
      el.pin.focus();
    }
  });
  root.addEventListener("till:error", function (event) {
    var code = errorOf(event.detail);
    if (code === "bad_pin" || code === "pin_locked" || code === "insufficient_balance") {
      el.pin.value = "";
      if (state.member) load();
      if (code === "bad_pin") el.pin.focus();
      till.requote(true);  // priced again, so the order can be confirmed once more
    }
  });
  root.addEventListener("till:receipt", function (event) {
    var paid = event.detail.paid_with_balance || 0;
    el.receiptRow.hidden = !paid;
    el.receiptAmount.textContent = paid ? till.yuan(paid) : "";
    el.pin.value = "";
  });
  // Another part of the till took from the balance (a membership paid from it).
  root.addEventListener("till:balance-changed", function () { if (state.member) load(); });
  el.use.addEventListener("change", function () {
    el.pinBox.hidden = !el.use.checked;
    if (el.use.checked) el.pin.focus();
    showPart();
  });
  el.pay.addEventListener("input", function () {
    var pay = till.cents(el.pay.value);
    el.confirm.textContent = pay ? till.fill(W.topUpConfirm, { amount: till.yuan(pay) })
      : W.topUp;
  });
  el.open.addEventListener("click", openTopUp);
  el.cancel.addEventListener("click", closeTopUp);
  el.form.addEventListener("submit", topUp);
})();
