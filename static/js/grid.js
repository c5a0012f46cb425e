// 九宫格: lucky-canvas draws the prize cells round a central start button; the light runs
// round them and stops on the cell of the server's result.
(function () {
  "use strict";

  var Play = window.Play;
  var Games = window.CanvasGames;
  var cfg = Play.config;
  var cells = cfg.segments;
  var side = cells.length / 4 + 1;  // 8 cells: 3x3; 12: 4x4; 16: 5x5
  var box = document.getElementById("grid");
  var size = Math.round(Math.min(box.clientWidth || 320, 356));
  var quick = Play.reducedMotion();
  var landed = null;
  var GUTTER = 6;
  var cell = (size - 32 - GUTTER * (side - 1)) / side;
  var sizes = side === 3 ? [15, 14, 13, 12] : [13, 12, 11];

  // The ring clockwise from the top left: the light runs round the prizes in list order.
  function ring() {
    var at = [];
    var i;
    for (i = 0; i < side; i++) { at.push([i, 0]); }
    for (i = 1; i < side; i++) { at.push([side - 1, i]); }
    for (i = side - 2; i >= 0; i--) { at.push([i, side - 1]); }
    for (i = side - 2; i > 0; i--) { at.push([0, i]); }
    return at;
  }

  function face(seg, xy) {
    var icon = Math.round(cell * 0.34);
    var textTop = cell * 0.1 + icon + 2;
    var room = cell - 8 - textTop;
    var label = Games.label(seg.name, cell * 0.86, room, sizes);
    var lineHeight = label.lineHeight;
    return {
      x: xy[0], y: xy[1],
      fonts: [{
        text: label.text, fontSize: label.size + "px", lineHeight: lineHeight + "px",
        top: Math.max(textTop - 2, textTop + (room - label.lines * lineHeight) / 2 - 3) + "px",
        fontColor: seg.kind === "nothing" ? "#6b5a4a" : Games.brandDark,
        fontWeight: "700", fontStyle: Games.font, wordWrap: false
      }],
      imgs: [{ src: cfg.icons[seg.kind], width: icon + "px", height: icon + "px", top: "10%" }]
    };
  }

  var inner = cell * (side - 2) + GUTTER * (side - 3);
  var buttonSize = side === 3 ? 26 : 30;
  var grid = new window.LuckyCanvas.LuckyGrid(box, {
    width: size + "px",
    height: size + "px",
    rows: side,
    cols: side,
    blocks: [
      { padding: "10px", background: Games.brandDark, borderRadius: "22px" },
      { padding: "6px", background: "#ffd45e", borderRadius: "16px" }
    ],
    prizes: ring().map(function (xy, i) { return face(cells[i], xy); }),
    buttons: [{
      x: 1, y: 1, col: side - 2, row: side - 2, borderRadius: "14px",
      background: "linear-gradient(180deg, " + Games.brand + ", " + Games.brandDark + ")",
      shadow: "0 4 0 #7a1b12",
      fonts: [{
        text: cfg.messages.wheelButton, fontSize: buttonSize + "px", lineHeight: buttonSize + "px",
        top: (inner / 2 - buttonSize * 0.62) + "px", fontColor: "#fff3c4", fontWeight: "900",
        fontStyle: Games.font, wordWrap: false
      }]
    }],
    defaultStyle: { background: "#fff8e6", borderRadius: "12px", shadow: "0 4 0 #e3b65c" },
    activeStyle: { background: "#ffd45e", shadow: "0 4 0 #c77d06", fontColor: "#7a1b12" },
    defaultConfig: {
      gutter: GUTTER,
      speed: 20,
      accelerationTime: quick ? 150 : 1400,
      decelerationTime: quick ? 300 : 2400
    },
    start: function () {
      if (Play.canPlay() && !Play.busy()) { Play.run(null); }
    },
    end: function () {
      if (landed) { var done = landed; landed = null; done(); }
    }
  });

  Play.register({
    animate: function (outcome) {
      var index = Games.pick(Games.landingIndexes(outcome, cells));
      return new Promise(function (resolve) {
        landed = resolve;
        grid.play();
        window.setTimeout(function () { grid.stop(index); }, quick ? 100 : 900);
      });
    },
    reset: function () {}
  });
})();
