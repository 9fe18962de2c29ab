// MapLibre GL JS (its CSP build, from npm, served by the service under /vendor/), loaded when
// the first map opens, and the style every map starts from: the service's /basemap/style.json
// (the imported basemap, else the configured remote one, else a plain background).

import { t } from './i18n.js';

let loading = null;
// The map library's files (each URL names the release: the server stamps it).
const LIBRARY_JS = '/vendor/maplibre-gl.js';
const LIBRARY_WORKER = '/vendor/maplibre-gl-worker.js';
const LIBRARY_CSS = '/vendor/maplibre-gl.css';

export function loadMapLibre() {
  if (window.maplibregl) return Promise.resolve(window.maplibregl);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = LIBRARY_CSS;
      document.head.append(css);
      const script = document.createElement('script');
      script.src = LIBRARY_JS;
      script.onload = () => {
        window.maplibregl.setWorkerUrl(new URL(LIBRARY_WORKER, location.href).href);
        // Start the worker now, not when the first map asks for it.
        window.maplibregl.prewarm();
        resolve(window.maplibregl);
      };
      script.onerror = () => {
        loading = null; // offline now, perhaps not the next time the map is opened
        reject(new Error('could not load the map library'));
      };
      document.head.append(script);
    });
  }
  return loading;
}

let organization = null;

/** The organization whose basemap the maps draw (its own, else the service's). */
export function setOrganization(slug) {
  organization = slug || null;
}

export function styleUrl() {
  return `/basemap/style.json${organization ? `?org=${encodeURIComponent(organization)}` : ''}`;
}

/** A plain background: what a map draws when the style cannot be had (offline, never cached). */
export function plainStyle(background = '#eef1f4') {
  return {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': background } }],
  };
}

/** The service's style (/basemap/style.json: the imported basemap, the configured remote one,
 * or none), its background in the app's colour. */
export async function basemapStyle(background) {
  try {
    const res = await fetch(styleUrl());
    if (res.ok) {
      const style = await res.json();
      const bg = style.layers?.[0];
      if (background && bg?.type === 'background') bg.paint = { ...bg.paint, 'background-color': background };
      return style;
    }
  } catch {
    // offline and never cached: a plain background
  }
  return plainStyle(background);
}

/** Whether the service said it has no basemap at all (not merely that it could not be asked). */
export function hasNoBasemap(style) {
  return style?.metadata?.['safewalk:basemap'] === 'none';
}

function showNote(container, text) {
  const note = document.createElement('p');
  note.className = 'map-note';
  note.setAttribute('role', 'note');
  note.textContent = text;
  // CSSOM, not a style attribute: the CSP allows no inline styles.
  Object.assign(note.style, {
    position: 'absolute', left: '8px', bottom: '8px', right: '48px', margin: '0', zIndex: '2',
    padding: '4px 8px', background: 'rgba(255,255,255,0.92)', color: '#1b1b1b',
    font: '13px/1.35 system-ui, sans-serif', borderRadius: '4px', pointerEvents: 'none',
  });
  container.append(note);
}

/** A map in `container` on the service's style, resolved once it has loaded. `background` is
 * the plain background's colour; `noBasemapNote`, a text shown on the map when the service has
 * no basemap (staff maps say so, rather than draw on a blank); the rest goes to MapLibre. */
export async function createMap(container, { background, noBasemapNote, ...options } = {}) {
  const [maplibregl, style] = await Promise.all([loadMapLibre(), basemapStyle(background)]);
  const map = new maplibregl.Map({
    container,
    style,
    center: [10.75, 59.91],
    zoom: 4,
    // Credit where a basemap is drawn; a plain background owes nobody.
    attributionControl: Object.keys(style.sources || {}).length ? { compact: true } : false,
    // MapLibre's own labels (the canvas, the zoom buttons) in the reader's language too.
    locale: {
      'Map.Title': t('maplibre.map'),
      'NavigationControl.ZoomIn': t('maplibre.zoom_in'),
      'NavigationControl.ZoomOut': t('maplibre.zoom_out'),
      'NavigationControl.ResetBearing': t('maplibre.reset_bearing'),
      'AttributionControl.ToggleAttribution': t('maplibre.attribution'),
      'Popup.Close': t('maplibre.popup_close'),
      'Marker.Title': t('maplibre.marker'),
    },
    ...options,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  if (noBasemapNote && hasNoBasemap(style)) showNote(map.getContainer(), noBasemapNote);
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once('load', resolve)));
  return map;
}

/** The slippy-map tiles (z, x, y) covering [[west, south], [east, north]] at zoom z. */
export function tilesCovering([[west, south], [east, north]], z) {
  const n = 2 ** z;
  const tx = (lon) => Math.min(n - 1, Math.max(0, Math.floor(((lon + 180) / 360) * n)));
  const ty = (lat) => {
    const r = (Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI) / 180;
    return Math.min(n - 1, Math.max(0, Math.floor(((1 - Math.asinh(Math.tan(r)) / Math.PI) / 2) * n)));
  };
  const out = [];
  for (let x = tx(west); x <= tx(east); x += 1) {
    for (let y = ty(north); y <= ty(south); y += 1) out.push([z, x, y]);
  }
  return out;
}

export const BASEMAP_CACHE = 'safewalk-basemap';
// The field app's service worker answers /vendor/ from this cache (sw.template.js).
const LIBRARY_CACHE = 'safewalk-runtime';

/** Keep the basemap of `area` ([[w, s], [e, n]], grown by `margin` degrees) in the cache the
 * service worker answers /basemap/ from: the style and the service's own tiles, from the
 * file's lowest zoom up to `maxZoom`, at most `maxTiles` of them. Returns how many are kept. */
export async function cacheBasemap(area, { margin = 0.004, maxZoom = 17, maxTiles = 600 } = {}) {
  if (!area || !('caches' in window)) return 0;
  const style = await basemapStyle();
  const source = style.sources?.basemap;
  const template = source?.tiles?.[0];
  if (!template || new URL(template, location.href).origin !== location.origin) return 0;
  // The map library too: a map first opened offline still draws.
  const library = await caches.open(LIBRARY_CACHE);
  await Promise.all([LIBRARY_JS, LIBRARY_WORKER, LIBRARY_CSS].map(async (url) => {
    if (!(await library.match(url))) await library.add(url).catch(() => {});
  }));
  const cache = await caches.open(BASEMAP_CACHE);
  await cache.put(styleUrl(), new Response(JSON.stringify(style), { headers: { 'Content-Type': 'application/json' } }));
  const grown = [[area[0][0] - margin, area[0][1] - margin], [area[1][0] + margin, area[1][1] + margin]];
  const urls = [];
  for (let z = source.minzoom ?? 0; z <= Math.min(maxZoom, source.maxzoom ?? maxZoom); z += 1) {
    for (const [tz, x, y] of tilesCovering(grown, z)) {
      urls.push(template.replace('{z}', tz).replace('{x}', x).replace('{y}', y));
    }
    if (urls.length >= maxTiles) break;
  }
  const queue = urls.slice(0, maxTiles);
  let kept = 0;
  let offline = false;
  // A few at a time: quick on a phone's network, without crowding out the app's own requests.
  const worker = async () => {
    while (queue.length && !offline) {
      const url = queue.shift();
      try {
        if (!(await cache.match(url))) {
          const res = await fetch(url);
          if (!res.ok) continue;
          await cache.put(url, res);
        }
        kept += 1;
      } catch {
        offline = true; // the network went: what is kept is kept
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return kept;
}

/** [[west, south], [east, north]] of one or more FeatureCollections (and extra [lon, lat]
 * points), or null when there is nothing. */
export function bounds(fc, ...points) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      minX = Math.min(minX, c[0]); maxX = Math.max(maxX, c[0]);
      minY = Math.min(minY, c[1]); maxY = Math.max(maxY, c[1]);
    } else {
      c.forEach(visit);
    }
  };
  for (const collection of [fc].flat()) {
    for (const f of collection?.features || []) if (f.geometry) visit(f.geometry.coordinates);
  }
  points.forEach(visit);
  return Number.isFinite(minX) ? [[minX, minY], [maxX, maxY]] : null;
}

/** Show everything in `fc`; a single point is shown at `maxZoom`. */
export function fit(map, fc, maxZoom = 16, ...points) {
  const b = bounds(fc, ...points);
  if (!b) return;
  if (b[0][0] === b[1][0] && b[0][1] === b[1][1]) map.jumpTo({ center: b[0], zoom: maxZoom });
  else map.fitBounds(b, { padding: 40, maxZoom, duration: 0 });
}
