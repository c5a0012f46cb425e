// The till (收银台): find the customer, price the order with the service, take it, show the
// receipt. Every amount shown comes from the API (the quote, the order, the receipt); this
// script only turns what the cashier typed into cents and cents into "¥128.50". Texts come
// from the page (#till-config), rendered in the page's language.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("till-config").textContent);
  var T = config.texts;
  // Parts of the till in partials of their own (stored value, ...) bring their error texts
  // in a <script type="application/json" data-till-texts> of their own.
  Array.prototype.forEach.call(document.querySelectorAll("script[data-till-texts]"), function (node) {
    var extra = JSON.parse(node.textContent);
    Object.keys(extra.errors || {}).forEach(function (code) { T.errors[code] = extra.errors[code]; });
  });
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var root = document.querySelector("[data-till]");
  var $ = function (sel) { return root.querySelector(sel); };
  var QUOTE_DELAY_MS = 300;
  var SCAN_EVERY_MS = 150;

  var el = {
    form: $("[data-lookup-form]"), query: $("input[name=query]"),
    message: $("[data-message]"), lookupLoading: $("[data-lookup-loading]"),
    picks: $("[data-picks]"), customer: $("[data-customer]"), member: $("[data-member]"),
    guest: $("[data-guest]"), waiting: $("[data-waiting]"), order: $("[data-order]"),
    subtotal: $("input[name=subtotal]"),
    couponList: $("[data-coupon-list]"), noCoupons: $("[data-no-coupons]"),
    couponsBox: $("[data-coupons-box]"), payable: $("[data-payable]"),
    quoteLoading: $("[data-quote-loading]"), quoteMessage: $("[data-quote-message]"),
    confirm: $("[data-action=confirm]"), receipt: $("[data-receipt]"),
    join: $("[data-join]"), joinQr: $("[data-join-qr]"),
    camera: $("[data-camera]"), video: $("[data-camera-video]"),
    canvas: $("[data-camera-canvas]"), cameraStatus: $("[data-camera-status]")
  };

  var state;
  var lastQuery = "";
  // What the parts in partials hear: "till:member" (the member shown), "till:reset" (a new
  // customer), "till:body" ({body, order}: a quote's or the order's body to add fields to),
  // "till:quote", "till:confirm" ({refusal}: set it to stop the order with that message),
  // "till:error" and "till:receipt"; after an order refused for their part (a wrong PIN)
  // they price it again with root.till.requote(), so the cashier can confirm once more.
  function tell(name, detail) {
    root.dispatchEvent(new CustomEvent(name, { detail: detail }));
  }

  function fresh() {
    return { member: null, guestPhone: null, coupons: [], ticked: [], orderId: newOrderId(),
      quote: null, quoteSeq: 0, quoteTimer: null, pending: null, busy: false, done: false };
  }

  function newOrderId() {
    var bytes = new Uint8Array(9);
    window.crypto.getRandomValues(bytes);
    return "till-" + Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  // Words and money

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : all;
    });
  }

  function yuan(cents) {
    var sign = cents < 0 ? "-" : "";
    var abs = Math.abs(cents);
    var rest = abs % 100;
    return sign + "¥" + Math.floor(abs / 100) + "." + (rest < 10 ? "0" : "") + rest;
  }

  // "128.50" (or full-width "１２８．５０" from a Chinese keyboard) -> 12850; null if not money.
  function cents(text) {
    var ascii = text.replace(/[\uFF10-\uFF19\uFF0E]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).trim();
    var m = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(ascii);
    if (!m) return null;
    return parseInt(m[1], 10) * 100 + parseInt(((m[2] || "") + "00").slice(0, 2), 10);
  }

  function localDate(iso) {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone: config.timeZone, year: "numeric",
        month: "2-digit", day: "2-digit" }).format(new Date(iso));
    } catch (e) { return iso.slice(0, 10); }
  }

  function terms(coupon) {
    var d = coupon.discount;
    if (d.type === "gift") return fill(T.gift, { description: d.description });
    var value = d.type === "amount_off" ? fill(T.amountOff, { amount: yuan(d.amount) })
      : fill(T.percentOff, { zhe: String((100 - d.percent) / 10), percent: d.percent });
    var floor = coupon.min_spend > 0 ? fill(T.minSpend, { amount: yuan(coupon.min_spend) }) : T.free;
    return value + " · " + floor;
  }

  function errorText(result) {
    if (result.status === 0) return T.errors.network;
    var error = result.data && result.data.error;
    var code = error && error.code;
    if (code && T.errors[code]) {
      var details = error.details || {};
      return fill(T.errors[code], { amount: details.min_spend !== undefined ? yuan(details.min_spend) : "" });
    }
    if (result.status >= 500) return T.errors.server;
    if (result.status === 401) return T.errors.unauthorized;
    return T.errors.other;
  }

  // A message in words; "ok" for good news (a coupon ticked), a warning otherwise.
  function say(node, text, tone) {
    node.textContent = text || "";
    node.hidden = !text;
    node.classList.toggle("is-ok", tone === "ok");
  }

  // The API, with the staff session (cookie) and, for state changes, the page's token

  function api(method, url, body, extraHeaders) {
    var headers = Object.assign({ "Accept": "application/json" }, extraHeaders || {});
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    return fetch(url, { method: method, credentials: "same-origin", headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      }, function () { return { ok: false, status: 0, data: null }; });
  }

  // Finding the customer

  function lookup(text) {
    var query = (text === undefined ? el.query.value : text).trim();
    if (!query) { say(el.message, T.enterQuery); el.query.focus(); return; }
    lastQuery = query;
    var url = "/api/v1/members/lookup?query=" + encodeURIComponent(query);
    // A coupon scanned for the member on screen must be theirs; after a receipt, or while
    // an order is being taken, a scan starts over.
    var onScreen = state.member && !state.pending && !state.done ? state.member.id : null;
    if (onScreen) url += "&member_id=" + encodeURIComponent(onScreen);
    say(el.message, "");
    el.lookupLoading.hidden = false;
    root.setAttribute("aria-busy", "true");
    api("GET", url).then(function (result) {
      el.lookupLoading.hidden = true;
      root.removeAttribute("aria-busy");
      if (!result.ok) {
        say(el.message, errorText(result));
        el.query.select();
        return;
      }
      el.query.value = "";
      found(result.data, onScreen);
    });
  }

  function found(data, onScreen) {
    el.picks.hidden = true;
    el.picks.textContent = "";
    if (data.kind === "coupon_code" && onScreen && data.items[0].member.id === onScreen) {
      tick(data.items[0].matched_code, data.items[0].coupons);
      return;
    }
    if (data.guest_phone) { showGuest(data.guest_phone); return; }
    if (data.items.length === 0) {
      say(el.message, data.kind === "phone_tail" ? fill(T.noTail, { tail: onlyDigits(lastQuery) })
        : fill(T.noPhone, { phone: lastQuery }));
      return;
    }
    if (data.items.length === 1 && !data.truncated) { showMember(data.items[0]); return; }
    showPicks(data);
  }

  function onlyDigits(text) { return (text || "").replace(/\D/g, ""); }

  function showPicks(data) {
    say(el.message, data.truncated ? fill(T.tooMany, { count: data.items.length })
      : fill(T.pick, { count: data.items.length }));
    data.items.forEach(function (card) {
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "till-pick";
      button.setAttribute("data-pick-member", card.member.id);
      var name = document.createElement("strong");
      name.textContent = card.member.name || T.noName;
      var meta = document.createElement("span");
      meta.className = "mono";
      meta.textContent = card.member.phone || "";
      var tier = document.createElement("span");
      tier.className = "till-tier";
      tier.textContent = card.member.tier || T.noTier;
      button.append(name, tier, meta);
      button.addEventListener("click", function () {
        el.picks.hidden = true;
        say(el.message, "");
        showMember(card);
      });
      li.appendChild(button);
      el.picks.appendChild(li);
    });
    el.picks.hidden = false;
  }

  function startCustomer() {
    var previous = state;
    if (previous) clearTimeout(previous.quoteTimer);
    state = fresh();
    el.waiting.hidden = true;
    el.receipt.hidden = true;
    el.receipt.removeAttribute("data-order-id");
    el.join.hidden = true;
    el.subtotal.value = "";
    el.subtotal.disabled = false;
    showQuote(null);
    say(el.quoteMessage, "");
    tell("till:reset", null);
  }

  function showMember(card) {
    startCustomer();
    state.member = card.member;
    state.coupons = card.coupons;
    root.setAttribute("data-state", "member");
    el.member.setAttribute("data-member-id", card.member.id);
    $("[data-member-name]").textContent = card.member.name || T.noName;
    $("[data-member-tier]").textContent = card.member.tier || T.noTier;
    $("[data-member-phone]").textContent = card.member.phone || "";
    $("[data-member-points]").textContent = String(card.member.points);
    el.member.hidden = false;
    el.guest.hidden = true;
    el.customer.hidden = false;
    renderCoupons();
    el.couponsBox.hidden = false;
    el.order.hidden = false;
    if (card.matched_code) tick(card.matched_code, card.coupons);
    tell("till:member", card.member);
    el.subtotal.focus();
  }

  function showGuest(phone) {
    startCustomer();
    state.guestPhone = phone;
    root.setAttribute("data-state", "guest");
    $("[data-guest-phone]").textContent = phone;
    el.member.hidden = true;
    el.guest.hidden = false;
    el.customer.hidden = false;
    el.couponsBox.hidden = true;
    el.order.hidden = false;
    el.subtotal.focus();
  }

  function renderCoupons() {
    el.couponList.textContent = "";
    el.noCoupons.hidden = state.coupons.length > 0;
    state.coupons.forEach(function (coupon) {
      var li = document.createElement("li");
      var label = document.createElement("label");
      label.className = "till-coupon";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.setAttribute("data-coupon-code", coupon.code);
      box.checked = state.ticked.indexOf(coupon.code) >= 0;
      box.addEventListener("change", function () {
        setTicked(coupon.code, box.checked);
      });
      var body = document.createElement("span");
      body.className = "till-coupon-body";
      var name = document.createElement("strong");
      name.textContent = coupon.name;
      var line = document.createElement("span");
      line.textContent = terms(coupon);
      var meta = document.createElement("span");
      meta.className = "till-coupon-meta";
      meta.textContent = (coupon.expires_at ? fill(T.expires, { date: localDate(coupon.expires_at) })
        : T.noExpiry) + " · " + coupon.code;
      body.append(name, line, meta);
      if (coupon.stackable) {
        var badge = document.createElement("span");
        badge.className = "till-badge";
        badge.textContent = T.stackable;
        body.appendChild(badge);
      }
      label.append(box, body);
      li.appendChild(label);
      el.couponList.appendChild(li);
    });
  }

  function setTicked(code, on) {
    var at = state.ticked.indexOf(code);
    if (on && at < 0) state.ticked.push(code);
    if (!on && at >= 0) state.ticked.splice(at, 1);
    scheduleQuote();
  }

  // A scanned coupon of the member on screen: ticked, and the list refreshed from the lookup.
  function tick(code, coupons) {
    state.coupons = coupons;
    if (state.ticked.indexOf(code) < 0) state.ticked.push(code);
    renderCoupons();
    say(el.message, fill(T.matched, { code: code }), "ok");
    scheduleQuote();
  }

  // Pricing: the quote endpoint, debounced; only the latest answer counts

  function orderBody(forOrder) {
    var body = { id: state.orderId, subtotal: cents(el.subtotal.value),
      coupon_codes: state.ticked.slice() };
    if (state.member) body.member_id = state.member.id; else body.phone = state.guestPhone;
    if (config.storeId) body.store_id = config.storeId;
    tell("till:body", { body: body, order: !!forOrder });
    return body;
  }

  function scheduleQuote() {
    clearTimeout(state.quoteTimer);
    var seq = ++state.quoteSeq;
    showQuote(null);
    say(el.quoteMessage, "");
    var text = el.subtotal.value.trim();
    if (!text) return;
    var value = cents(text);
    el.subtotal.setAttribute("aria-invalid", value === null ? "true" : "false");
    if (value === null) { say(el.quoteMessage, T.badSubtotal); return; }
    el.quoteLoading.hidden = false;
    state.quoteTimer = setTimeout(function () {
      api("POST", "/api/v1/orders/quote", orderBody()).then(function (result) {
        if (seq !== state.quoteSeq) return;  // the cashier changed something meanwhile
        el.quoteLoading.hidden = true;
        if (!result.ok) { say(el.quoteMessage, errorText(result)); return; }
        showQuote(result.data);
      });
    }, QUOTE_DELAY_MS);
  }

  function showQuote(quote) {
    state.quote = quote;
    el.quoteLoading.hidden = true;
    $("[data-show=subtotal]").textContent = quote ? yuan(quote.subtotal) : "—";
    var discount = $("[data-show=discount]");
    discount.textContent = quote ? (quote.discount ? yuan(-quote.discount) : yuan(0)) : "—";
    discount.classList.toggle("is-zero", !quote || !quote.discount);
    // A paid member's discount, taken before the coupons (shown only when there is one).
    var memberOff = quote && quote.member_discount ? quote.member_discount : 0;
    $("[data-member-discount-row]").hidden = !memberOff;
    $("[data-show=member_discount]").textContent = memberOff ? yuan(-memberOff) : "—";
    el.payable.textContent = quote ? yuan(quote.amount) : "—";
    el.payable.setAttribute("data-payable", quote ? String(quote.amount) : "");
    el.confirm.disabled = !quote;
    el.confirm.textContent = quote ? fill(T.confirmAmount, { amount: yuan(quote.amount) })
      : T.confirm;
    tell("till:quote", quote);
  }

  // Taking the order: the same id on a retry, so a lost answer never charges twice

  function confirm() {
    if (state.busy) return;
    var check = { refusal: null };
    if (!state.pending) tell("till:confirm", check);
    if (check.refusal) { say(el.quoteMessage, check.refusal); return; }
    var body = state.pending || orderBody(true);
    state.busy = true;
    el.confirm.disabled = true;
    el.confirm.textContent = T.saving;
    lockInputs(true);
    api("POST", "/api/v1/orders", body).then(function (result) {
      state.busy = false;
      if (result.status === 0) {
        // The order may have been taken: only the very same body may be sent again.
        state.pending = body;
        say(el.quoteMessage, T.errors.network);
        el.confirm.disabled = false;
        el.confirm.textContent = fill(T.confirmAmount, { amount: yuan(state.quote.amount) });
        return;
      }
      if (!result.ok) {
        state.pending = null;
        lockInputs(false);
        say(el.quoteMessage, errorText(result));
        showQuote(null);
        tell("till:error", result);
        return;
      }
      receipt(result.data);
    });
  }

  function lockInputs(locked) {
    el.subtotal.disabled = locked;
    Array.prototype.forEach.call(el.couponList.querySelectorAll("input"), function (box) {
      box.disabled = locked;
    });
  }

  function receipt(order) {
    state.done = true;
    state.pending = null;
    root.setAttribute("data-state", "done");
    el.order.hidden = true;
    el.customer.hidden = true;
    el.receipt.hidden = false;
    el.receipt.setAttribute("data-order-id", order.id);
    var show = function (name, text) { el.receipt.querySelector('[data-receipt="' + name + '"]').textContent = text; };
    show("order", order.id);
    show("amount", yuan(order.amount));
    show("discount", yuan(order.discount || 0));
    show("member_discount", yuan(-(order.member_discount || 0)));
    $("[data-receipt-member-discount-row]").hidden = !order.member_discount;
    var used = (order.coupons || []).map(function (c) { return c.code; });
    show("coupons", used.length ? used.join("、") : T.none);
    show("points", "…");
    show("balance", "…");
    $("[data-receipt-points-row]").hidden = !order.member_id;
    $("[data-receipt-balance-row]").hidden = !order.member_id;
    tell("till:receipt", order);
    if (order.join_url) {
      el.joinQr.src = "/till/join-qr.svg?url=" + encodeURIComponent(order.join_url);
      el.join.hidden = false;
    }
    $("[data-action=next]").focus();
    api("GET", "/api/v1/orders/" + encodeURIComponent(order.id) + "/receipt").then(function (result) {
      if (!result.ok) { show("points", "—"); show("balance", "—"); return; }
      var r = result.data;
      if (r.coupons.length) show("coupons", r.coupons.map(function (c) {
        return c.name + " " + yuan(-c.discount);
      }).join("、"));
      show("points", "+" + r.points_earned);
      show("balance", r.points_balance === null ? "—" : String(r.points_balance));
      el.receipt.setAttribute("data-points-earned", String(r.points_earned));
    });
  }

  function next() {
    startCustomer();
    root.setAttribute("data-state", "find");
    el.customer.hidden = true;
    el.order.hidden = true;
    el.picks.hidden = true;
    el.waiting.hidden = false;
    say(el.message, "");
    el.query.value = "";
    el.query.focus();
  }

  // The camera: frames into jsQR until a code is read

  var camera = { stream: null, timer: null };

  function cameraError(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") return T.cameraDenied;
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return T.cameraNone;
    return T.cameraFailed;
  }

  function startCamera() {
    say(el.message, "");
    if (!window.isSecureContext) { say(el.message, T.cameraInsecure); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.jsQR) {
      say(el.message, T.cameraNone);
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        camera.stream = stream;
        el.video.srcObject = stream;
        el.camera.hidden = false;
        say(el.cameraStatus, T.cameraLooking);
        return el.video.play();
      })
      .then(function () { camera.timer = setTimeout(scanFrame, SCAN_EVERY_MS); })
      .catch(function (error) { stopCamera(); say(el.message, cameraError(error)); });
  }

  function scanFrame() {
    camera.timer = null;
    if (!camera.stream) return;
    var width = el.video.videoWidth, height = el.video.videoHeight;
    if (width && height) {
      var scale = Math.min(1, 640 / width);
      var w = Math.round(width * scale), h = Math.round(height * scale);
      el.canvas.width = w;
      el.canvas.height = h;
      var context = el.canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(el.video, 0, 0, w, h);
      var code = window.jsQR(context.getImageData(0, 0, w, h).data, w, h,
        { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        stopCamera();
        el.query.value = code.data;
        lookup(code.data);
        return;
      }
    }
    camera.timer = setTimeout(scanFrame, SCAN_EVERY_MS);
  }

  function stopCamera() {
    clearTimeout(camera.timer);
    camera.timer = null;
    if (camera.stream) camera.stream.getTracks().forEach(function (track) { track.stop(); });
    camera.stream = null;
    el.video.srcObject = null;
    el.camera.hidden = true;
  }

  // Wiring

  el.form.addEventListener("submit", function (event) {
    event.preventDefault();  // Enter from a USB scanner lands here too
    lookup();
  });
  el.subtotal.addEventListener("input", function () {
    if (el.message.classList.contains("is-ok")) say(el.message, "");  // news read, move on
    scheduleQuote();
  });
  el.subtotal.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !el.confirm.disabled) confirm();
  });
  el.confirm.addEventListener("click", confirm);
  $("[data-action=next]").addEventListener("click", next);
  $("[data-action=reset]").addEventListener("click", next);
  $("[data-action=scan]").addEventListener("click", startCamera);
  $("[data-action=scan-stop]").addEventListener("click", stopCamera);
  document.addEventListener("visibilitychange", function () { if (document.hidden) stopCamera(); });

  root.till = { api: api, yuan: yuan, cents: cents, fill: fill, errorText: errorText,
    say: say, storeId: config.storeId,
    requote: function (keep) {  // keep: the refusal stays in view meanwhile
      if (state.busy || state.done) return;
      var message = el.quoteMessage.textContent;
      scheduleQuote();
      if (keep) say(el.quoteMessage, message);
    } };
  startCustomer();
  el.waiting.hidden = false;
  root.setAttribute("data-ready", "true");
})();
