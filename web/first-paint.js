// Runs before the body is drawn (a plain, blocking script in <head>; the CSP allows no inline
// one), for index.html's prerendered copy of the app (#prerendered), which shows the default
// scenario's run (crates/dsim-web/src/browser/prerendered.rs):
// - a link with settings of its own must never show those numbers as its own, so the copy is
//   hidden for any query and the page waits for the app, as it always did;
// - the copy is shown once the whole document is parsed: drawn while it streams in, it would
//   move what is on screen as the rest arrives. Without this script it simply shows at once.
const root = document.documentElement;
if (location.search.length > 1) root.classList.add("has-query");
root.classList.add("parsing");
document.addEventListener("readystatechange", () => root.classList.remove("parsing"), {
  once: true,
});
