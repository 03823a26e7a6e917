// mdBook's inline scripts at the start of <body>, as one file (book/theme/index.hbs): values
// stored in quotes by older mdBooks are mended, the theme is set before anything is drawn,
// and the sidebar is hidden or shown as it was left.
try {
  const stored = localStorage.getItem("mdbook-theme");
  const side = localStorage.getItem("mdbook-sidebar");
  if (stored.startsWith('"') && stored.endsWith('"')) {
    localStorage.setItem("mdbook-theme", stored.slice(1, stored.length - 1));
  }
  if (side.startsWith('"') && side.endsWith('"')) {
    localStorage.setItem("mdbook-sidebar", side.slice(1, side.length - 1));
  }
} catch (e) {}

const default_theme = window.matchMedia("(prefers-color-scheme: dark)").matches
  ? default_dark_theme
  : default_light_theme;
let theme;
try {
  theme = localStorage.getItem("mdbook-theme");
} catch (e) {}
if (theme === null || theme === undefined) {
  theme = default_theme;
}
const html = document.documentElement;
html.classList.remove(default_light_theme);
html.classList.add(theme);
html.classList.add("js");

let sidebar = null;
const sidebar_toggle = document.getElementById("mdbook-sidebar-toggle-anchor");
if (document.body.clientWidth >= 1080) {
  try {
    sidebar = localStorage.getItem("mdbook-sidebar");
  } catch (e) {}
  sidebar = sidebar || "visible";
} else {
  sidebar = "hidden";
  sidebar_toggle.checked = false;
}
if (sidebar === "visible") {
  sidebar_toggle.checked = true;
} else {
  html.classList.remove("sidebar-visible");
}
