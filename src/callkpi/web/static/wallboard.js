/* callkpi live wallboard: the server pushes the live section (server-sent events from
   /wallboard/stream); between pushes the times in state and the waits count on by the second. */
(function () {
  "use strict";
  const live = document.getElementById("live");
  if (!live) return;
  let skew = 0;  // this browser's clock minus the server's
  const pad = (n) => String(n).padStart(2, "0");
  function elapsed(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }
  function sync() {
    const inner = live.querySelector("[data-at]");
    if (inner) skew = Date.now() / 1000 - parseFloat(inner.dataset.at);
  }
  function tick() {
    const now = Date.now() / 1000 - skew;
    live.querySelectorAll("[data-since]").forEach((el) => {
      el.textContent = elapsed(now - parseFloat(el.dataset.since));
    });
  }
  sync();
  setInterval(tick, 1000);
  if (!window.EventSource || !live.dataset.stream) return;
  const stream = new EventSource(live.dataset.stream);
  stream.addEventListener("live", (event) => {
    live.innerHTML = event.data;
    sync();
    tick();
    live.dataset.pushes = String((parseInt(live.dataset.pushes || "0", 10) || 0) + 1);
  });
  stream.addEventListener("open", () => { live.dataset.connected = "1"; });
})();
