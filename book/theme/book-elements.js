// The book's <delivery-playground> elements follow its theme picker (book.toml,
// additional-js): mdBook marks the theme as a class on <html> (light, rust, coal, navy, ayu),
// and each element gets `theme="light"` or `theme="dark"`, which only its stylesheet reads
// (nothing re-runs). Without this they would follow the reader's system alone.
const DARK_THEMES = ["coal", "navy", "ayu"];

function followTheme() {
  const dark = DARK_THEMES.some((t) => document.documentElement.classList.contains(t));
  for (const element of document.querySelectorAll("delivery-playground")) {
    element.setAttribute("theme", dark ? "dark" : "light");
  }
}

followTheme();
new MutationObserver(followTheme).observe(document.documentElement, {
  attributes: true,
  attributeFilter: ["class"],
});
