// Starts the playground. The page's Content-Security-Policy (index.html) allows scripts only
// from this origin and never inline, so the wasm-bindgen module is started from this file
// rather than from the inline script Trunk would inject. Trunk writes the hashed names of the
// module and the wasm binary into <meta name="dsim-wasm"> (see `pattern_script` in Trunk.toml).

const names = document.querySelector('meta[name="dsim-wasm"]');
if (!names) throw new Error("dsim: <meta name=\"dsim-wasm\"> is missing; build the page with trunk");
// The first paint comes first: a release index.html carries the page drawn from HTML
// (#prerendered), so the wasm is fetched once that is on screen, never competing with it on a
// slow network (the build drops Trunk's early preload of it: crates/xtask/src/split_page.rs).
// "On screen" is the frame after the one that drew it: a timeout from that frame's own
// animation callback can run before the frame is presented, which started the fetch a few
// milliseconds before the paint it was to wait for (and Lighthouse's simulation of a phone then
// counted the wasm's download as part of the paint: LCP 3.1 s instead of 1.2 s in some runs).
if (document.getElementById("prerendered")) {
  await new Promise((painted) =>
    requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(painted, 0))),
  );
}
// Resolved against the document, as Trunk's own loader would, wherever this file is served from.
const url = (path) => new URL(path, document.baseURI).href;
const { default: init } = await import(url(names.dataset.js));
await init({ module_or_path: url(names.dataset.wasm) });
