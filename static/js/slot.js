// 老虎机: lucky-canvas draws three reels of the prizes; they spin and stop on the server's
// result: three of the prize won in the middle row, or a row that is not three alike.
(function () {
  "use strict";

  var Play = window.Play;
  var Games = window.CanvasGames;
  var cfg = Play.config;
  var symbols = cfg.segments;
  var REELS = 3;
  var box = document.getElementById("slot");
  var size = Math.round(Math.min(box.clientWidth || 320, 340));
  var quick = Play.reducedMotion();
  var landed = null;
  var SPACING = 8;
  var cell = (size - 32 - SPACING * (REELS - 1)) / REELS;
  var height = Math.round(32 + cell * 1.6);

  function face(seg) {
    var icon = Math.round(cell * 0.36);
    var textTop = cell * 0.1 + icon + 2;
    var room = cell - 6 - textTop;
    var label = Games.label(seg.name, cell * 0.86, room, [15, 14, 13, 12]);
    var lineHeight = label.lineHeight;
    return {
      background: seg.kind === "nothing" ? "#f4efe9" : "#ffffff",
      borderRadius: "12px",
      fonts: [{
        text: label.text, fontSize: label.size + "px", lineHeight: lineHeight + "px",
        top: Math.max(textTop - 2, textTop + (room - label.lines * lineHeight) / 2 - 3) + "px",
        fontColor: seg.kind === "nothing" ? "#6b5a4a" : Games.brandDark,
        fontWeight: "700", fontStyle: Games.font, wordWrap: false
      }],
      imgs: [{ src: cfg.icons[seg.kind], width: icon + "px", height: icon + "px", top: "10%" }]
    };
  }

  // Each reel runs through every symbol, starting at a different one.
  var slots = [];
  for (var r = 0; r < REELS; r++) {
    slots.push({
      order: symbols.map(function (_, j) { return (j + r * 2) % symbols.length; }),
      speed: 18 + r * 3
    });
  }

  var machine = new window.LuckyCanvas.SlotMachine(box, {
    width: size + "px",
    height: height + "px",
    blocks: [
      { padding: "10px", background: Games.brandDark, borderRadius: "20px" },
      { padding: "6px", background: "#ffd45e", borderRadius: "14px" }
    ],
    prizes: symbols.map(face),
    slots: slots,
    defaultConfig: {
      rowSpacing: SPACING, colSpacing: SPACING,
      accelerationTime: quick ? 150 : 1200,
      decelerationTime: quick ? 300 : 2600
    },
    end: function () {
      if (landed) { var done = landed; landed = null; done(); }
    }
  });

  // The symbol each reel stops on.
  function stops(outcome) {
    if (outcome.outcome === "win" && outcome.prize) {
      var at = Games.pick(Games.landingIndexes(outcome, symbols));
      return [at, at, at];
    }
    var ids = symbols.map(function (s) { return s.id; });
    var distinct = ids.filter(function (id, i) { return ids.indexOf(id) === i; }).length;
    var any = symbols.map(function (_, i) { return i; });
    var row = [Games.pick(Games.landingIndexes(outcome, symbols)), Games.pick(any), Games.pick(any)];
    // A lose never shows three alike (that is what a win looks like).
    while (distinct > 1 && ids[row[0]] === ids[row[1]] && ids[row[1]] === ids[row[2]]) {
      row[2] = Games.pick(any);
    }
    return row;
  }

  Play.register({
    animate: function (outcome) {
      var row = stops(outcome);
      return new Promise(function (resolve) {
        landed = resolve;
        machine.play();
        window.setTimeout(function () { machine.stop(row); }, quick ? 100 : 800);
      });
    },
    reset: function () {}
  });
})();
