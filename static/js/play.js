// The draw client shared by the three game pages. The server picks the prize; a game only
// animates to it. Flow per tap: fetch the result, let the game animate to it, then show the
// result sheet (whose element carries data-outcome once the animation has ended).
//
// One Idempotency-Key per tap: taps while a draw is under way are ignored, and after a
// network failure the same key is sent again, so a retry replays the first answer instead
// of drawing twice. Each tap also sends a fresh random client seed (provably fair draws:
// the pick is HMAC(the campaign's committed seed, "client_seed:key")), the same one with
// its retries.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("play-config").textContent);
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var msg = config.messages;
  var motion = window.matchMedia("(prefers-reduced-motion: reduce)");
  var sheet = document.querySelector("[data-sheet]");
  var result = document.getElementById("result");
  var noticeEl = document.querySelector("[data-notice]");
  var remainingEl = document.querySelector("[data-remaining]");
  var game = null;
  var busy = false;
  var pendingKey = null;
  var pendingSeed = null;
  var remaining = config.remaining;
  // Earned chances left, as [source, count] runs, oldest first: the order they are spent.
  var chances = config.chances || [];
  var exhausted = !config.canPlay;
  var lastFocus = null;
  var openedAt = 0;
  var confettiCannon = null;

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function playControls() {
    return document.querySelectorAll('[data-action="play"]');
  }

  function setPlayable(on) {
    playControls().forEach(function (el) {
      if (el.tagName === "BUTTON") { el.disabled = !on; }
    });
    document.body.classList.toggle("is-busy", !on && !exhausted);
  }

  function showNotice(text) {
    noticeEl.textContent = text;
    noticeEl.hidden = false;
  }

  function hideNotice() {
    noticeEl.hidden = true;
    noticeEl.textContent = "";
  }

  function left() {
    var known = [remaining.today, remaining.total].filter(function (n) { return n !== null; });
    return known.length ? Math.min.apply(null, known) : null;
  }

  function renderRemaining() {
    var n = left();
    var text;
    if (n === null) {
      text = msg.unlimited;
    } else if (remaining.today !== null && (remaining.total === null || remaining.today <= remaining.total)) {
      text = msg.remainingToday.replace("{n}", n);
    } else {
      text = msg.remainingTotal.replace("{n}", n);
    }
    remainingEl.querySelector("[data-remaining-count]").textContent = text;
    renderChances();
  }

  function renderChances() {
    var note = remainingEl.querySelector("[data-chances-note]");
    var total = chances.reduce(function (sum, run) { return sum + run[1]; }, 0);
    var sources = chances.map(function (run) { return run[0]; }).filter(function (s, i, all) {
      return all.indexOf(s) === i;
    });
    var label = {check_in: msg.chanceCheckIn, order: msg.chanceOrder, invite: msg.chanceInvite};
    note.textContent = total === 0 ? "" : msg.chanceSeparator + (
      (sources.length === 1 ? label[sources[0]] : null) || msg.chanceMixed).replace("{n}", total);
  }

  function spendChance() {
    if (!chances.length) { return; }
    chances[0][1] -= 1;
    if (chances[0][1] <= 0) { chances.shift(); }
  }

  function markExhausted(text) {
    exhausted = true;
    setPlayable(false);
    playControls().forEach(function (el) {
      if (el.classList.contains("btn-play")) { el.textContent = msg.doneLabel; }
    });
    showNotice(text);
  }

  function failureText(status, body) {
    var code = body && body.error && body.error.code;
    if (code === "draw_limit_reached") {
      return remaining.total === 0 ? msg.limitTotal : msg.limitToday;
    }
    if (code === "campaign_not_active") { return msg.notActive; }
    if (code === "insufficient_points") { return msg.points; }
    if (code === "csrf_failed") { return msg.expired; }
    if (status === 429) { return msg.rate; }
    if (status === 401) { return msg.signin; }
    return msg.generic;
  }

  async function draw() {
    if (!pendingKey) {
      pendingKey = newKey();
      pendingSeed = newKey();
    }
    var response;
    try {
      response = await fetch(config.drawUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "Idempotency-Key": pendingKey,
          "X-CSRF-Token": csrfMeta ? csrfMeta.content : ""
        },
        body: JSON.stringify({ client_seed: pendingSeed })
      });
    } catch (err) {
      // The draw may or may not have happened: keep the key, the retry replays it.
      showNotice(msg.network);
      return null;
    }
    var body = null;
    try { body = await response.json(); } catch (err) { body = null; }
    if (response.status === 201 && body) {
      pendingKey = null;
      remaining = body.remaining;
      if (body.extra) { spendChance(); }
      return body;
    }
    if (response.status < 500) { pendingKey = null; }
    var text = failureText(response.status, body);
    var code = body && body.error && body.error.code;
    if (code === "draw_limit_reached") {
      if (remaining.total === 0 || remaining.today === null) { remaining.total = 0; } else { remaining.today = 0; }
      renderRemaining();
    }
    if (code === "draw_limit_reached" || code === "campaign_not_active") {
      markExhausted(text);
    } else {
      showNotice(text);
    }
    if (response.status === 401) {
      window.setTimeout(function () { window.location.href = config.joinUrl; }, 1500);
    }
    return null;
  }

  async function run(control) {
    if (busy || exhausted || !game) { return; }
    busy = true;
    setPlayable(false);
    hideNotice();
    var outcome = null;
    try {
      outcome = await draw();
      if (outcome) {
        await game.animate(outcome, control || null);
        finish(outcome);
        return;
      }
    } catch (err) {
      showNotice(msg.generic);
    }
    busy = false;
    if (!exhausted) { setPlayable(true); }
  }

  function celebrate(x, y) {
    if (motion.matches || typeof window.confetti !== "function") { return; }
    if (!confettiCannon) {
      confettiCannon = window.confetti.create(document.querySelector("[data-confetti]"),
        { resize: true, useWorker: false, disableForReducedMotion: true });
    }
    var brand = getComputedStyle(document.documentElement).getPropertyValue("--brand").trim();
    confettiCannon({
      particleCount: 120, spread: 80, startVelocity: 42, ticks: 220,
      origin: { x: x === undefined ? 0.5 : x, y: y === undefined ? 0.45 : y },
      colors: [brand || "#e4393c", "#ffd45e", "#ffffff", "#ff9f43"]
    });
  }

  // The odds table's remaining column follows the member's own wins (others' wins show
  // on the next visit).
  function countWin(prizeId) {
    var cell = document.querySelector('[data-odds] [data-prize-id="' + prizeId + '"] [data-prize-remaining]');
    if (!cell) { return; }
    var n = Math.max(0, parseInt(cell.getAttribute("data-prize-remaining"), 10) - 1);
    cell.setAttribute("data-prize-remaining", String(n));
    cell.textContent = String(n);
  }

  function finish(outcome) {
    var win = outcome.outcome === "win" && outcome.prize;
    var kind = win ? outcome.prize.kind : "nothing";
    result.querySelector("[data-result-title]").textContent = win ? msg.winTitle : msg.loseTitle;
    result.querySelector("[data-result-prize]").textContent = win ? outcome.prize.name : "";
    var note = !win ? msg.loseNote : (kind === "coupon" ? msg.couponNote : msg.pointsNote);
    result.querySelector("[data-result-note]").textContent =
      win && outcome.pity ? msg.pityNote + " " + note : note;
    result.querySelector("[data-result-icon]").src = config.icons[kind];
    result.querySelector("[data-result-coupons]").hidden = kind !== "coupon";
    result.classList.toggle("sheet--win", !!win);
    if (win) { countWin(outcome.prize.id); }
    var n = left();
    var again = result.querySelector('[data-action="again"]');
    again.hidden = n === 0;
    renderRemaining();
    lastFocus = document.activeElement;
    sheet.hidden = false;
    openedAt = Date.now();
    result.setAttribute("data-outcome", outcome.outcome);
    document.body.classList.add("has-sheet");
    setBackgroundInert(true);
    result.focus();
    if (win) { celebrate(); }
    busy = false;
    if (n === 0) {
      markExhausted(remaining.total === 0 ? msg.limitTotal : msg.limitToday);
    }
  }

  function closeSheet(playAgain) {
    if (sheet.hidden) { return; }
    sheet.hidden = true;
    result.removeAttribute("data-outcome");
    document.body.classList.remove("has-sheet");
    setBackgroundInert(false);
    if (game && game.reset) { game.reset(); }
    if (!exhausted) { setPlayable(true); }
    if (playAgain && !exhausted) {
      var first = document.querySelector('button[data-action="play"]');
      if (first) { first.focus(); }
      return;
    }
    if (lastFocus && lastFocus.focus) { lastFocus.focus(); }
  }

  document.addEventListener("click", function (event) {
    var control = event.target.closest("[data-action]");
    if (!control) { return; }
    var action = control.getAttribute("data-action");
    if (action === "play" && control.tagName === "BUTTON") {
      event.preventDefault();
      run(control);
    } else if (action === "again") {
      closeSheet(true);
    } else if (action === "close") {
      closeSheet(false);
    }
  });

  // While the sheet is open the rest of the page is inert (no focus, no taps, hidden from
  // screen readers): every sibling along the path from the sheet up to <body>.
  function setBackgroundInert(on) {
    for (var node = sheet; node && node !== document.body; node = node.parentElement) {
      var siblings = node.parentElement ? node.parentElement.children : [];
      for (var i = 0; i < siblings.length; i++) {
        var el = siblings[i];
        if (el === node || el.tagName === "SCRIPT") { continue; }
        if (on) { el.setAttribute("inert", ""); } else { el.removeAttribute("inert"); }
      }
    }
  }

  function sheetControls() {
    return Array.prototype.filter.call(result.querySelectorAll("a[href], button"),
      function (el) { return !el.hidden && !el.disabled && el.getClientRects().length > 0; });
  }

  document.addEventListener("keydown", function (event) {
    if (sheet.hidden) { return; }
    if (event.key === "Escape") { closeSheet(false); return; }
    if (event.key !== "Tab") { return; }
    // Tab and Shift+Tab go round the sheet's own controls.
    var controls = sheetControls();
    if (!controls.length) { event.preventDefault(); result.focus(); return; }
    var first = controls[0], last = controls[controls.length - 1];
    var at = document.activeElement;
    var inside = controls.indexOf(at) !== -1;
    if (event.shiftKey && (!inside || at === first)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (!inside || at === last)) {
      event.preventDefault();
      first.focus();
    }
  });

  sheet.addEventListener("click", function (event) {
    // A tap carried over from the game (still scratching, a second tap) must not close it.
    if (event.target === sheet && Date.now() - openedAt > 800) { closeSheet(false); }
  });

  window.Play = {
    config: config,
    messages: msg,
    reducedMotion: function () { return motion.matches; },
    register: function (g) { game = g; },
    run: run,
    celebrate: celebrate,
    busy: function () { return busy; },
    canPlay: function () { return config.canPlay && !exhausted; },
    // The prize's segment to land on; a draw that became "no prize" lands on a 'nothing'.
    landingPrizeId: function (outcome) {
      if (outcome.outcome === "win" && outcome.prize) { return outcome.prize.id; }
      var seg = outcome.segment_id;
      var prize = seg && config.prizes[seg];
      return prize && prize.kind === "nothing" ? seg : null;
    }
  };
})();
