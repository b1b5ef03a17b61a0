// news-assistant: citation cards on hover, focus and tap; the Copy links; plain-text aria
// labels for chat messages. Loaded into <head>; every listener is delegated to the document,
// so it works for messages Gradio renders later.
(() => {
  if (window.__naCards) return;
  window.__naCards = true;
  let card = null;
  let hideTimer = null;
  let shownAt = 0;

  function ensureCard() {
    if (card) return card;
    card = document.createElement("div");
    card.id = "na-card-pop";
    card.setAttribute("role", "tooltip");
    card.hidden = true;
    document.body.appendChild(card);
    card.addEventListener("mouseenter", () => clearTimeout(hideTimer));
    card.addEventListener("mouseleave", () => hide(200));
    return card;
  }

  function tip(a) {
    // the lines of the card come in the title (Gradio's sanitizer drops data- attributes);
    // move them aside so that the browser's own tooltip does not show as well
    if (a.hasAttribute("title")) {
      a.naTip = a.getAttribute("title");
      a.removeAttribute("title");
    }
    const lines = (a.naTip || "").split("\n");
    return { title: lines[0] || "", where: lines[1] || "", quote: lines.slice(2).join("\n") };
  }

  function show(a) {
    const c = ensureCard();
    const t = tip(a);
    clearTimeout(hideTimer);
    c.replaceChildren();
    const quote = document.createElement("blockquote");
    quote.textContent = t.quote;
    const title = document.createElement("div");
    title.className = "na-pop-title";
    title.textContent = a.textContent + " " + t.title;
    const where = document.createElement("div");
    where.className = "na-pop-where";
    where.textContent = t.where;
    c.append(title, where, quote);
    c.hidden = false;
    shownAt = performance.now();
    const r = a.getBoundingClientRect();
    const width = Math.min(360, window.innerWidth - 16);
    c.style.width = width + "px";
    c.style.left = Math.max(8, Math.min(r.left, window.innerWidth - width - 8)) + "px";
    const below = r.bottom + 6;
    const h = c.offsetHeight;
    c.style.top = (below + h < window.innerHeight ? below : Math.max(8, r.top - h - 6)) + "px";
  }

  function hide(delay) {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => { if (card) card.hidden = true; }, delay);
  }

  const marker = (e) => e.target.closest && e.target.closest(".na-cite a");
  document.addEventListener("mouseover", (e) => { const a = marker(e); if (a) show(a); });
  document.addEventListener("mouseout", (e) => { if (marker(e)) hide(300); });
  document.addEventListener("focusin", (e) => { const a = marker(e); if (a) show(a); });
  document.addEventListener("focusout", (e) => { if (marker(e)) hide(300); });
  // scrolling hides the card, except the scroll to the quote that a click itself causes
  window.addEventListener("scroll", () => {
    if (performance.now() - shownAt > 1000) hide(0);
  }, true);

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {
      const area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    window.__naCopied = text;
  }

  // the plain text travels with the sources panel, which may render a moment after the chat
  async function plainOf(id) {
    for (let i = 0; i < 40; i += 1) {
      const plain = document.getElementById(id);
      if (plain) return plain;
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  }

  function reveal(hash) {
    // the sources of an older turn are shown by CSS (:has(:target)); scroll to the quote
    const target = hash && document.getElementById(hash.slice(1));
    if (target) requestAnimationFrame(() => target.scrollIntoView({ block: "center" }));
  }

  document.addEventListener("click", (e) => {
    const copy = e.target.closest && e.target.closest("a.na-copy");
    if (copy) {
      e.preventDefault();
      e.stopPropagation();
      plainOf(copy.getAttribute("href").slice(1)).then((plain) => {
        if (!plain) return;
        copyText(plain.textContent).then(() => {
          copy.textContent = "Copied";
          setTimeout(() => { copy.textContent = "Copy"; }, 1500);
        });
      });
      return;
    }
    const a = marker(e);
    if (a) {
      show(a); // a tap shows the card too (touch has no hover)
      hide(4000);
      const hash = a.getAttribute("href");
      if (hash && location.hash === hash) reveal(hash);
    }
  }, true);
  window.addEventListener("hashchange", () => reveal(location.hash));

  // On a phone the open sidebar would cover the chat: close it once the app is up
  if (window.matchMedia("(max-width: 720px)").matches) {
    let tries = 0;
    const timer = setInterval(() => {
      tries += 1;
      const bar = document.querySelector("#na-sidebar.open .toggle-button");
      const ready = document.querySelector("#na-question textarea");
      if ((ready && !bar && tries > 8) || tries > 80) clearInterval(timer);
      if (ready && bar && tries > 2) bar.click();
    }, 250);
  }

  // Gradio labels each message with its raw content (HTML of the markers): say it in words
  function relabel(root) {
    root.querySelectorAll("[aria-label*=\"'s message: \"]").forEach((m) => {
      const who = m.getAttribute("aria-label").split("'s message: ")[0];
      const clone = m.cloneNode(true);
      clone.querySelectorAll(".na-copy, button").forEach((x) => x.remove());
      const text = (clone.textContent || "").replace(/\s+/g, " ").trim();
      const label = who + "'s message: " + text;
      if (m.getAttribute("aria-label") !== label) m.setAttribute("aria-label", label);
    });
  }
  new MutationObserver(() => relabel(document)).observe(document.documentElement, {
    subtree: true, childList: true, characterData: true,
  });
})();
