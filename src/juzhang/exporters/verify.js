/* 居账 财务公开 — the check of a published page in the reader's browser (核验).
 *
 * Loads the page's JSON (the published figures, beside the page), recomputes
 * the figure digest with Web Crypto — SHA-256 of the canonical serialisation
 * (juzhang.reports.disclosure.digest_body):
 *   {"entity":E,"figures":[[key,value],...],"period":P}
 * no whitespace, pairs sorted by key then value in Unicode code point order,
 * strings as JSON.stringify writes them — builds the fingerprint
 *   entity:period:chain seq:chain hash (16 hex):digest (16 hex)
 * and compares it with the code on the paper board: the one in the address
 * (#fp=…, from the board's QR code), one typed in, else the one printed on
 * the page.  Every figure the page shows (data-key) must be the JSON's, and
 * every figure of the JSON must be shown.  Nothing is sent anywhere.
 */
(function () {
  "use strict";

  var encoder = new TextEncoder();

  function compareBytes(a, b) {
    var n = Math.min(a.length, b.length);
    for (var i = 0; i < n; i++) {
      if (a[i] !== b[i]) return a[i] - b[i];
    }
    return a.length - b.length;
  }

  /* The canonical serialisation of the figures (see juzhang.reports.disclosure.digest_body). */
  function canonical(entity, period, figures) {
    var pairs = figures.map(function (f) {
      var key = String(f.key), value = String(f.value);
      return { key: key, value: value, k: encoder.encode(key), v: encoder.encode(value) };
    });
    pairs.sort(function (x, y) { return compareBytes(x.k, y.k) || compareBytes(x.v, y.v); });
    return '{"entity":' + JSON.stringify(String(entity)) + ',"figures":[' +
      pairs.map(function (p) {
        return "[" + JSON.stringify(p.key) + "," + JSON.stringify(p.value) + "]";
      }).join(",") + '],"period":' + JSON.stringify(String(period)) + "}";
  }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function sha256(text) {
    if (!window.crypto || !window.crypto.subtle) {
      return Promise.reject(new Error(
        "浏览器不支持 Web Crypto（请用 https:// 网址打开） / no Web Crypto in this browser"));
    }
    return window.crypto.subtle.digest("SHA-256", encoder.encode(text)).then(hex);
  }

  /* A decimal as written on the page or in the JSON, in one form: "1,234.50" → "1234.5". */
  function decimal(text) {
    var s = String(text).replace(/[,\s%]/g, "");
    var m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
    if (!m || (m[2] === "" && !m[3])) return String(text).trim();
    var digits = (m[2] || "") + (m[3] || "");
    var point = (m[2] || "").length + (m[4] ? parseInt(m[4], 10) : 0);
    while (point > digits.length) digits += "0";
    while (point < 0) { digits = "0" + digits; point++; }
    var whole = digits.slice(0, point).replace(/^0+/, "") || "0";
    var frac = digits.slice(point).replace(/0+$/, "");
    var out = frac ? whole + "." + frac : whole;
    return out === "0" ? "0" : (m[1] === "-" ? "-" : "") + out;
  }

  function load(url) {
    return new Promise(function (resolve, reject) {
      var request = new XMLHttpRequest();
      request.open("GET", url, true);
      request.overrideMimeType("application/json; charset=utf-8");
      request.onload = function () {
        if (request.status === 200 || (request.status === 0 && request.responseText)) {
          resolve(request.responseText);
        } else {
          reject(new Error("HTTP " + request.status));
        }
      };
      request.onerror = function () {
        reject(new Error("无法读取 " + url + "（从本机打开时浏览器可能禁止读取旁边的文件）"));
      };
      request.send();
    });
  }

  /* Every shown figure against the JSON, every JSON figure shown: the problems found. */
  function checkShown(figures) {
    var want = {}, seen = {}, problems = [];
    figures.forEach(function (f) { want[f.key] = String(f.value); });
    var cells = document.querySelectorAll("[data-key]");
    Array.prototype.forEach.call(cells, function (cell) {
      var key = cell.getAttribute("data-key");
      seen[key] = true;
      if (!(key in want)) {
        problems.push(key + "：数据文件中没有 / not in the JSON");
      } else if (decimal(cell.textContent) !== decimal(want[key])) {
        problems.push(key + "：页面 " + cell.textContent.trim() + " ≠ 数据文件 " + want[key]);
      }
    });
    Object.keys(want).forEach(function (key) {
      if (!seen[key]) problems.push(key + "：页面上没有 / not on the page");
    });
    return { problems: problems, shown: cells.length };
  }

  function paperCode(box) {
    var typed = document.getElementById("paper-code");
    if (typed && typed.value.trim()) return { code: typed.value.trim(), from: "输入的核验码" };
    var m = /[#&]fp=([^&]+)/.exec(window.location.hash);
    if (m) return { code: decodeURIComponent(m[1]), from: "二维码（网址）中的核验码" };
    return { code: box.getAttribute("data-fingerprint"), from: "本页印的核验码" };
  }

  function show(box, state, text, detail) {
    var out = document.getElementById("verify-result");
    out.setAttribute("data-state", state);
    out.textContent = text;
    box.className = "verify " + state;
    var list = document.getElementById("verify-detail");
    if (list) list.parentNode.removeChild(list);
    if (detail && detail.length) {
      list = document.createElement("ul");
      list.id = "verify-detail";
      detail.slice(0, 20).forEach(function (line) {
        var li = document.createElement("li");
        li.textContent = line;
        list.appendChild(li);
      });
      out.parentNode.insertBefore(list, out.nextSibling);
    }
  }

  var data = null;

  function run(box) {
    var loaded = data ? Promise.resolve(data) : load(box.getAttribute("data-json")).then(function (text) {
      data = JSON.parse(text);
      return data;
    });
    return loaded.then(function (json) {
      return sha256(canonical(json.entity, json.period, json.figures)).then(function (digest) {
        var computed = [json.entity, json.period, json.chain.seq,
          String(json.chain.hash).slice(0, 16), digest.slice(0, 16)].join(":");
        var paper = paperCode(box);
        var shown = checkShown(json.figures);
        var detail = ["按数据文件重新计算的核验码：" + computed, paper.from + "：" + paper.code]
          .concat(shown.problems);
        if (computed === paper.code && shown.problems.length === 0) {
          show(box, "match", "一致：数据文件的 " + json.figures.length + " 个数字与公开栏上的核验码相符，" +
            "页面上的 " + shown.shown + " 个数字都是这些数字 / matches", detail);
        } else {
          var why = computed !== paper.code ? "重新计算的核验码与" + paper.from + "不同" :
            shown.problems.length + " 个数字与数据文件不符";
          show(box, "mismatch", "不一致：" + why + "，数字可能被改动 / does not match", detail);
        }
      });
    }).catch(function (error) {
      show(box, "error", "无法核验 / cannot check：" + error.message, []);
    });
  }

  function start() {
    var box = document.getElementById("verify");
    if (!box) return;
    var again = document.getElementById("verify-again");
    if (again) again.addEventListener("click", function () { run(box); });
    window.addEventListener("hashchange", function () { run(box); });
    run(box);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
