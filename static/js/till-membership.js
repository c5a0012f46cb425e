// Paid membership at the till (templates/till/_membership.html): when till.js shows a member,
// this reads their membership and the plans, and buys or renews one in cash or from the
// balance. One Idempotency-Key per purchase attempt, kept across retries of it, so a lost
// answer never charges twice. Amounts and dates shown come from the API.
(function () {
  "use strict";
  var box = document.querySelector("[data-membership-box]");
  var card = document.querySelector("[data-member]");
  if (!box || !card || !document.querySelector("[data-till]")) return;
  var config = JSON.parse(document.getElementById("till-membership-config").textContent);
  var T = config.texts;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var $ = function (sel) { return box.querySelector(sel); };
  var el = { status: $("[data-membership-status]"), loading: $("[data-membership-loading]"),
    noPlans: $("[data-membership-no-plans]"), buy: $("[data-membership-buy]"),
    list: $("[data-plan-list]"), message: $("[data-membership-message]"),
    button: $("[data-action=buy-membership]") };
  var state = { memberId: null, plans: [], membership: null, key: null, busy: false };

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : all;
    });
  }
  function yuan(cents) {
    var whole = Math.floor(cents / 100), part = cents % 100;
    return "¥" + whole.toLocaleString("en-US") + "." + (part < 10 ? "0" : "") + part;
  }
  function localDate(iso) {
    var parts = new Intl.DateTimeFormat("en-CA", { timeZone: config.timeZone, year: "numeric",
      month: "2-digit", day: "2-digit" }).formatToParts(new Date(iso));
    var get = function (type) {
      return parts.filter(function (p) { return p.type === type; })[0].value;
    };
    return get("year") + "-" + get("month") + "-" + get("day");
  }
  function say(text, tone) {
    el.message.textContent = text || "";
    el.message.hidden = !text;
    el.message.classList.toggle("is-ok", tone === "ok");
  }
  function errorText(result) {
    if (result.status === 0) return T.errors.network;
    var code = result.data && result.data.error ? result.data.error.code : "";
    return T.errors[code] || T.errors.other;
  }
  function newKey() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "till-membership-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function api(method, url, body, key) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (key) headers["Idempotency-Key"] = key;
    return fetch(url, { method: method, credentials: "same-origin", headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      }, function () { return { ok: false, status: 0, data: null }; });
  }

  function running() { return state.membership && state.membership.active; }

  function showStatus() {
    var m = state.membership;
    el.status.textContent = !m ? T.none : fill(m.active ? T.active : T.ended,
      { plan: m.name, date: localDate(m.ends_at) });
    el.status.setAttribute("data-membership-state", !m ? "none" : (m.active ? "active" : "ended"));
  }

  function chosen() {
    var input = box.querySelector("input[name=membership-plan]:checked");
    return input ? state.plans.filter(function (p) { return p.id === input.value; })[0] : null;
  }

  function showButton() {
    var plan = chosen();
    el.button.disabled = !plan || state.busy;
    if (state.busy) { el.button.textContent = T.saving; return; }
    el.button.textContent = plan ? fill(running() ? T.renew : T.buy, { price: yuan(plan.price) })
      : T.pickPlan;
  }

  function renderPlans() {
    Array.prototype.slice.call(el.list.querySelectorAll(".till-choice")).forEach(function (n) {
      n.remove();
    });
    state.plans.forEach(function (plan, index) {
      var label = document.createElement("label");
      label.className = "till-choice till-plan";
      label.setAttribute("data-plan", plan.id);
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "membership-plan";
      input.value = plan.id;
      input.checked = running() ? plan.id === state.membership.plan_id : index === 0;
      input.addEventListener("change", function () { state.key = null; say(""); showButton(); });
      var name = document.createElement("strong");
      name.textContent = plan.name;
      var terms = [fill(T.plan, { price: yuan(plan.price), days: String(plan.days) })];
      if (plan.discount_percent) terms.push(fill(T.discount, { percent: plan.discount_percent }));
      if (plan.monthly_coupon_template_id) terms.push(T.coupon);
      var detail = document.createElement("span");
      detail.className = "muted";
      detail.textContent = terms.join(" · ");
      label.appendChild(input);
      label.appendChild(name);
      label.appendChild(detail);
      el.list.appendChild(label);
    });
    if (!chosen() && state.plans.length) el.list.querySelector("input").checked = true;
  }

  function load(memberId) {
    state = { memberId: memberId, plans: [], membership: null, key: null, busy: false };
    box.hidden = false;
    el.loading.hidden = false;
    el.buy.hidden = true;
    el.noPlans.hidden = true;
    el.status.textContent = "";
    say("");
    Promise.all([api("GET", "/api/v1/membership-plans"),
      api("GET", "/api/v1/members/" + encodeURIComponent(memberId) + "/membership")])
      .then(function (results) {
        if (state.memberId !== memberId) return;  // another member meanwhile
        el.loading.hidden = true;
        var failed = results.filter(function (r) { return !r.ok; })[0];
        if (failed) { el.status.textContent = errorText(failed); return; }
        state.plans = results[0].data.plans;
        state.membership = results[1].data.membership;
        showStatus();
        el.noPlans.hidden = state.plans.length > 0;
        el.buy.hidden = state.plans.length === 0;
        renderPlans();
        showButton();
      });
  }

  function buy() {
    var plan = chosen();
    if (!plan || state.busy) return;
    var paidWith = box.querySelector("input[name=membership-paid-with]:checked").value;
    var memberId = state.memberId;
    state.key = state.key || newKey();
    state.busy = true;
    say("");
    showButton();
    api("POST", "/api/v1/members/" + encodeURIComponent(memberId) + "/memberships",
      { plan_id: plan.id, paid_with: paidWith }, state.key).then(function (result) {
      if (state.memberId !== memberId) return;
      state.busy = false;
      if (!result.ok) {
        // A network failure keeps the key: trying again cannot charge twice.
        if (result.status !== 0) state.key = null;
        say(errorText(result));
        showButton();
        return;
      }
      state.key = null;
      var done = result.data;
      state.membership = { plan_id: done.plan_id, name: plan.name, active: true,
        starts_at: done.starts_at, ends_at: done.ends_at };
      showStatus();
      say(fill(done.renewal ? T.renewed : T.bought, { date: localDate(done.ends_at) }), "ok");
      showButton();
      // Paid from the balance: the stored-value box (till-wallet.js) reads it again.
      if (paidWith === "balance") till.dispatchEvent(new CustomEvent("till:balance-changed"));
      // The member discount may apply to the order on screen now: price it again.
      var subtotal = document.getElementById("subtotal");
      if (subtotal && subtotal.value) subtotal.dispatchEvent(new Event("input"));
    });
  }

  el.button.addEventListener("click", buy);
  box.addEventListener("change", function (event) {
    if (event.target.name === "membership-paid-with") { state.key = null; say(""); }
  });
  // Shown while till.js shows a member (data-state "member"), hidden for a guest, the
  // receipt and the search; read afresh for each member found.
  var till = document.querySelector("[data-till]");
  new MutationObserver(function (records) {
    // This box's own changes (which it makes below) are not till.js's.
    if (records.every(function (r) { return box.contains(r.target); })) return;
    var shown = till.getAttribute("data-state") === "member" && !card.hidden;
    var id = shown ? card.getAttribute("data-member-id") : null;
    if (!id) {
      state.memberId = null;
      if (!box.hidden) box.hidden = true;
    } else if (id !== state.memberId) {
      load(id);
    } else if (box.hidden) {
      box.hidden = false;
    }
  }).observe(till, { attributes: true, subtree: true,
    attributeFilter: ["hidden", "data-member-id", "data-state"] });
})();
