// /play/{id}/verify: recompute the member's draws in the browser from the revealed seed,
// with Web Crypto, as API.md ("Provably fair draws") defines them:
//   r = int(hex(HMAC-SHA256(key=seed, msg=client_seed + ":" + nonce))[:16], 16) mod total
// and the first prize, in the published order, whose running sum of weights exceeds r.
// A pick of a prize that ran out is a lose; a pity win (保底) is checked against the run
// of loses before it. Each row gets data-verdict-state; the status line says how it went.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("verify-config").textContent);
  var msg = config.messages;
  var status = document.querySelector("[data-verify-status]");

  function say(state, text) {
    status.setAttribute("data-verify-state", state);
    status.textContent = text;
  }

  function bytesOf(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(hex.substr(i * 2, 2), 16); }
    return out;
  }

  function hexOf(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function picked(r) {
    var running = BigInt(0);
    for (var i = 0; i < config.prizes.length; i++) {
      running += BigInt(config.prizes[i].weight);
      if (running > r) { return config.prizes[i]; }
    }
    return null;
  }

  function mark(draw, state, text) {
    var row = document.querySelector('[data-draw-id="' + draw.id + '"]');
    if (!row) { return; }
    row.setAttribute("data-verdict-state", state);
    row.querySelector("[data-verdict]").textContent = text;
  }

  async function verify() {
    var subtle = window.crypto && window.crypto.subtle;
    if (!subtle || typeof BigInt !== "function") { say("error", msg.noCrypto); return; }
    var seed = bytesOf(config.seed);
    var seedOk = hexOf(await subtle.digest("SHA-256", seed)) === config.commitment;
    var key = await subtle.importKey("raw", seed, { name: "HMAC", hash: "SHA-256" }, false,
                                     ["sign"]);
    var total = BigInt(config.prizes.reduce(function (sum, p) { return sum + p.weight; }, 0));
    var encoder = new TextEncoder();
    var bad = 0, loses = 0;
    for (var i = 0; i < config.draws.length; i++) {
      var d = config.draws[i];
      var won = d.outcome === "win" && d.prize;
      if (!d.fairness) {
        mark(d, "legacy", msg.legacy);
      } else if (d.pity) {
        var fair = won && d.prize.id === config.pityPrizeId && config.pityAfter !== null &&
          loses >= config.pityAfter;
        if (fair) { mark(d, "pity", msg.pity.replace("{n}", String(loses))); }
        else { bad++; mark(d, "mismatch", msg.mismatch); }
      } else {
        var message = encoder.encode(d.fairness.client_seed + ":" + d.fairness.nonce);
        var mac = hexOf(await subtle.sign("HMAC", key, message));
        var prize = picked(BigInt("0x" + mac.slice(0, 16)) % total);
        if (prize && won && d.prize.id === prize.id) {
          mark(d, "verified", msg.verified);
        } else if (prize && !won && prize.id === d.segment_id) {
          mark(d, "verified", msg.verified);  // a "nothing" prize: the lose it picked
        } else if (prize && !won && d.segment_id === null) {
          mark(d, "sold-out", msg.soldOut.replace("{prize}", prize.name));
        } else {
          bad++;
          mark(d, "mismatch", msg.mismatch);
        }
      }
      loses = won ? 0 : loses + 1;
    }
    if (!seedOk) { say("done-bad", msg.seedBad); }
    else if (bad) {
      say("done-bad", msg.someBad.replace("{n}", String(config.draws.length))
        .replace("{bad}", String(bad)));
    } else { say("done", msg.allGood.replace("{n}", String(config.draws.length))); }
  }

  verify().catch(function () { say("error", msg.failed); });
})();
