// Runs before the body is drawn (a plain, blocking script in <head>; the CSP allows no inline
// one). index.html's prerendered copy (#prerendered) shows the default scenario's run; a link
// with settings of its own must never show those numbers as its own, so the copy is hidden
// for any query and the page waits for the app, as it always did
// (crates/dsim-web/src/browser/prerendered.rs).
if (location.search.length > 1) document.documentElement.classList.add("has-query");
