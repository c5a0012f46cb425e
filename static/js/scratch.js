// 刮刮卡: the result is fetched first and laid under a silver coating on a canvas; the member
// scratches it off with a finger or the mouse (pointer events), or reveals it with a button.
(function () {
  "use strict";

  var Play = window.Play;
  var msg = Play.messages;
  var canvas = document.querySelector("[data-scratch-canvas]");
  var ctx = canvas.getContext("2d", { willReadFrequently: true });
  var resultBox = document.querySelector("[data-scratch-result]");
  var revealButton = document.querySelector('[data-action="reveal"]');
  var font = '"PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';
  // Share of the coating that must be gone before the card counts as scratched.
  var REVEAL_AT = 0.45;
  var armed = false;
  var drawing = false;
  var last = null;
  var moves = 0;
  var revealed = null;

  function fit() {
    var rect = canvas.getBoundingClientRect();
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(rect.width * dpr);
    canvas.height = Math.round(rect.height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return rect;
  }

  function coat(hint) {
    var rect = fit();
    var w = rect.width;
    var h = rect.height;
    ctx.globalCompositeOperation = "source-over";
    var grad = ctx.createLinearGradient(0, 0, w, h);
    grad.addColorStop(0, "#b9bec7");
    grad.addColorStop(0.45, "#e6e9ee");
    grad.addColorStop(0.55, "#d3d7de");
    grad.addColorStop(1, "#aab0ba");
    ctx.fillStyle = grad;
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = "rgba(255,255,255,0.35)";
    ctx.lineWidth = 1;
    for (var x = -h; x < w; x += 10) {
      ctx.beginPath();
      ctx.moveTo(x, h);
      ctx.lineTo(x + h, 0);
      ctx.stroke();
    }
    ctx.fillStyle = "#5b616b";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.font = "700 22px " + font;
    ctx.fillText(msg.scratchCover, w / 2, h / 2 - 12);
    ctx.font = "500 14px " + font;
    ctx.fillText(hint, w / 2, h / 2 + 18);
    canvas.classList.remove("is-revealed");
  }

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    return { x: event.clientX - rect.left, y: event.clientY - rect.top };
  }

  function scrape(from, to) {
    ctx.globalCompositeOperation = "destination-out";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = 34;
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  }

  function clearedShare() {
    var data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    var clear = 0;
    var total = 0;
    for (var i = 3; i < data.length; i += 64) {
      total += 1;
      if (data[i] < 128) { clear += 1; }
    }
    return total ? clear / total : 0;
  }

  function reveal() {
    if (!armed) { return; }
    armed = false;
    revealButton.hidden = true;
    resultBox.setAttribute("aria-hidden", "false");
    canvas.classList.add("is-revealed");
    var done = revealed;
    revealed = null;
    window.setTimeout(function () { if (done) { done(); } }, Play.reducedMotion() ? 0 : 450);
  }

  canvas.addEventListener("pointerdown", function (event) {
    // Only a drawn card can be scratched: touching it never starts a draw, so a finger that
    // keeps rubbing after the reveal cannot spend another one.
    if (!armed) { return; }
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    last = point(event);
    scrape(last, { x: last.x + 0.1, y: last.y + 0.1 });
  });

  canvas.addEventListener("pointermove", function (event) {
    if (!drawing || !armed) { return; }
    var here = point(event);
    scrape(last, here);
    last = here;
    moves += 1;
    if (moves % 12 === 0 && clearedShare() >= REVEAL_AT) { reveal(); }
  });

  function stop() {
    if (!drawing) { return; }
    drawing = false;
    if (armed && clearedShare() >= REVEAL_AT) { reveal(); }
  }
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  revealButton.addEventListener("click", reveal);

  Play.register({
    animate: function (outcome) {
      var win = outcome.outcome === "win" && outcome.prize;
      resultBox.querySelector("[data-scratch-title]").textContent = win ? msg.winTitle : msg.loseTitle;
      resultBox.querySelector("[data-scratch-prize]").textContent = win ? outcome.prize.name : msg.loseNote;
      resultBox.classList.toggle("is-win", !!win);
      coat(msg.scratchHint);
      armed = true;
      moves = 0;
      revealButton.hidden = false;
      return new Promise(function (resolve) { revealed = resolve; });
    },
    reset: function () {
      resultBox.setAttribute("aria-hidden", "true");
      resultBox.classList.remove("is-win");
      resultBox.querySelector("[data-scratch-title]").textContent = "";
      resultBox.querySelector("[data-scratch-prize]").textContent = "";
      coat(msg.scratchStart);
    }
  });

  coat(msg.scratchStart);
  window.addEventListener("resize", function () { if (!armed) { coat(msg.scratchStart); } });
})();
