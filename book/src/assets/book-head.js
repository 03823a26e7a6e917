// mdBook's inline head script, as a file (book/theme/index.hbs): the site root and the default
// themes its other scripts read, from attributes the template writes on <html>. Top-level
// `const` in a classic script is shared with the page's other classic scripts, as inline.
const bookData = document.documentElement.dataset;
const path_to_root = bookData.pathToRoot;
const default_light_theme = bookData.defaultTheme;
const default_dark_theme = bookData.darkTheme;
if (bookData.searchindex) {
  window.path_to_searchindex_js = bookData.searchindex;
}
if ("copyable" in bookData) window.playground_copyable = true;
if ("lineNumbers" in bookData) window.playground_line_numbers = true;
