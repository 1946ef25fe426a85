/* 居账 财务公开 — the check of a published page in the reader's browser (核验).
 *
 * Loads the page's JSON (the published figures, beside the page), recomputes
 * the figure digest with Web Crypto (on a plain http:// page, which has none,
 * with the SHA-256 below) — SHA-256 of the canonical serialisation
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

  /* SHA-256 (FIPS 180-4) in plain JavaScript, for pages served over plain http://,
   * where browsers give no Web Crypto (crypto.subtle is for secure contexts only). */
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  function sha256Plain(bytes) {
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var length = bytes.length;
    var padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
    padded.set(bytes);
    padded[length] = 0x80;
    var view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
    view.setUint32(padded.length - 4, (length << 3) >>> 0);
    var w = new Uint32Array(64);
    for (var offset = 0; offset < padded.length; offset += 64) {
      var i;
      for (i = 0; i < 16; i++) w[i] = view.getUint32(offset + 4 * i);
      for (i = 16; i < 64; i++) {
        var s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        var s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (i = 0; i < 64; i++) {
        var t1 = (k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
          K[i] + w[i]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
      h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + k) | 0;
    }
    return h.map(function (v) { return ("0000000" + (v >>> 0).toString(16)).slice(-8); }).join("");
  }

  var method = "";

  function sha256(text) {
    if (window.crypto && window.crypto.subtle) {
      method = "Web Crypto";
      return window.crypto.subtle.digest("SHA-256", encoder.encode(text)).then(hex);
    }
    method = "内置算法（此网址无 Web Crypto） / built-in SHA-256";
    return Promise.resolve(sha256Plain(encoder.encode(text)));
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
      // the file as it is now, never a copy the browser kept: a verification
      // from a stale copy could say 一致 of a file since changed on the site
      request.setRequestHeader("Cache-Control", "no-cache");
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
        var detail = ["按数据文件重新计算的核验码（" + method + "）：" + computed,
          paper.from + "：" + paper.code]
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
