/* callkpi review page: the CQR computed live while scoring. It mirrors callkpi.qa.review.compute_cqr:
   100 x sum(weight x score) / sum(weight of criteria not N/A); a 0 on a fatal criterion makes it 0;
   nothing applicable (or nothing scored yet): no value. The saved CQR is always the server's. */
(function () {
  "use strict";
  function cqr(items) {
    if (items.some((i) => i.fatal && i.score === 0)) return 0;
    const applicable = items.filter((i) => i.score !== null);
    const denominator = applicable.reduce((sum, i) => sum + i.weight, 0);
    if (denominator <= 0) return null;
    return (100 * applicable.reduce((sum, i) => sum + i.weight * i.score, 0)) / denominator;
  }
  function itemsOf(form) {
    const rows = [...form.querySelectorAll("tr.qa-criterion")];
    return rows.map((row) => {
      const checked = row.querySelector("input[type=radio]:checked");
      const value = checked ? checked.value : undefined;
      return {
        weight: parseFloat(row.dataset.weight),
        fatal: row.dataset.fatal === "1",
        scored: checked !== null,
        score: value === undefined || value === "na" ? null : parseFloat(value),
      };
    });
  }
  function show(form) {
    const out = form.querySelector("#qa-live-cqr");
    if (!out) return;
    const items = itemsOf(form);
    const scored = items.filter((i) => i.scored);
    const value = scored.length ? cqr(scored) : null;
    out.dataset.value = value === null ? "" : String(value);
    const lang = document.body.dataset.lang === "ru" ? "ru-RU" : "en-US";
    out.textContent = value === null ? "—" : new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(value);
    out.classList.toggle("v-bad", value !== null && value < 80);
    out.classList.toggle("v-good", value !== null && value >= 80);
  }
  function init() {
    document.querySelectorAll("form[data-qa-form]").forEach((form) => {
      form.addEventListener("change", () => show(form));
      show(form);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
