// Where the staff web is: the hash (#/path?query), so that every view, filters included, is a
// link that can be shared. Views change it here; the shell (app.js) renders on hashchange.

export function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, q = ''] = raw.split('?');
  return { path, params: new URLSearchParams(q) };
}

export function navigate(path, params, { replace = false } = {}) {
  const q = params && [...params].length ? `?${params}` : '';
  const hash = `#${path}${q}`;
  if (replace) {
    history.replaceState(null, '', hash);
  } else if (location.hash !== hash) {
    history.pushState(null, '', hash);
  }
}

// Change the query of the current view without re-rendering it (filters).
export function setParams(params) {
  navigate(parseHash().path, params, { replace: false });
}
