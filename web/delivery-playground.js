// <delivery-playground>: the playground's views in any page, as an HTML element.
//
//   <script type="module" src="delivery-playground.js"></script>
//   <delivery-playground broker="kafka" mode="at-least-once" crash-after-process="0.002"
//                        seed="42" view="counters"></delivery-playground>
//
// Its attributes are the playground's URL keys (the scenario's settings and `preset`) plus
// `view` (counters, dashboard, compare, timeline, matrix), `height` (pixels) and `theme`
// (light, dark, auto). It re-runs when an attribute changes (but `theme`, which only its
// stylesheet reads); a bad attribute gets a line naming it and the others still apply.
// Types: delivery-playground.d.ts, beside this file.
//
// Every element of a page shares one instance of the playground's own wasm module (the file
// names below are the build's, written in by `cargo xtask element`), whose `main` mounts
// nothing outside the playground's page; each element mounts its view in its own shadow root,
// styled by the playground's stylesheet, with its own runs (a heavy one in a Web Worker).
// No inline script, no eval: it works under the playground's Content-Security-Policy.
//
// An element first runs when it comes within a screen's height of the screen: a book chapter's
// elements further down wait for the reader, instead of all running at once as the chapter
// opens (and the wasm is fetched with the first one a reader nears). Once run, it follows its
// attributes wherever it is.

const PAGE_JS = "__DSIM_PAGE_JS__";
const PAGE_WASM = "__DSIM_PAGE_WASM__";
const STYLE = "__DSIM_STYLE__";

// The playground's files sit beside this module, wherever the page that imports it is.
const assets = new URL("./", import.meta.url).href;

let instance;
/** The playground's module, fetched and compiled once for every element of the page. */
function playground() {
  instance ??= (async () => {
    const module = await import(new URL(PAGE_JS, assets).href);
    await module.default({ module_or_path: new URL(PAGE_WASM, assets).href });
    return module;
  })();
  return instance;
}

let elements = 0;

// The `theme` values the stylesheet knows (dsim_core::element::THEMES); any other gets a line.
const THEMES = ["light", "dark", "auto"];
const badTheme = (value) => value !== null && !THEMES.includes(value.trim());

export class DeliveryPlayground extends HTMLElement {
  // Its own number on the page, the same for each of its mounts: its workers are its own.
  #number = ++elements;
  #container;
  #mounted = null;
  #scheduled = false;
  #badTheme = false;
  // Whether it has come near the screen yet (`#near`).
  #seen = false;
  static #near = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        DeliveryPlayground.#near.unobserve(entry.target);
        entry.target.#seen = true;
        entry.target.#schedule();
      }
    },
    { rootMargin: "100% 0px" },
  );
  #observer = new MutationObserver((changes) => {
    // The stylesheet follows `theme` by itself (`:host([theme=dark])`): a theme toggle on the
    // host page re-runs nothing, unless the bad value's line must come or go.
    if (changes.some((c) => c.attributeName !== "theme") || this.#themeNamed()) this.#schedule();
  });

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = new URL(STYLE, assets).href;
    this.#container = document.createElement("div");
    this.#container.className = "element-host";
    root.append(style, this.#container);
  }

  connectedCallback() {
    // Every attribute is a setting, so all are watched (observedAttributes would need the
    // list of keys before the module that knows them has loaded).
    this.#observer.observe(this, { attributes: true });
    if (this.#seen) this.#schedule();
    else DeliveryPlayground.#near.observe(this);
  }

  disconnectedCallback() {
    this.#observer.disconnect();
    DeliveryPlayground.#near.unobserve(this);
    this.#unmount();
  }

  // Several attributes set in one go (a script, a framework) make one re-run; none before the
  // element has come near the screen (it runs them all then).
  #schedule() {
    if (this.#scheduled || !this.#seen) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#render().catch((error) => this.#failed(error));
    });
  }

  // Whether the element's error line names `theme` now, or should.
  #themeNamed() {
    return badTheme(this.getAttribute("theme")) || this.#badTheme;
  }

  async #render() {
    const module = await playground();
    if (!this.isConnected) return;
    this.#unmount();
    const attributes = [...this.attributes].map((a) => [a.name, a.value]);
    this.#badTheme = badTheme(this.getAttribute("theme"));
    this.#mounted = module.mount_element(this.#container, attributes, this.#number, assets);
  }

  #unmount() {
    this.#mounted?.free();
    this.#mounted = null;
  }

  #failed(error) {
    const line = document.createElement("p");
    line.className = "panels-failed";
    line.setAttribute("role", "alert");
    line.textContent = `The playground did not load: ${error}`;
    this.#container.replaceChildren(line);
    console.error("delivery-playground:", error);
  }
}

if (!customElements.get("delivery-playground")) {
  customElements.define("delivery-playground", DeliveryPlayground);
}
