// MapLibre GL JS (its CSP build, from npm, served by the service under /vendor/), loaded when
// the first map opens, and the style every map starts from: the configured basemap, read from
// /shared/config.json, or a plain background, which needs no outside request at all.

import { t } from './i18n.js';

let loading = null;
let config = null;

export function loadMapLibre() {
  if (window.maplibregl) return Promise.resolve(window.maplibregl);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = '/vendor/maplibre-gl.css';
      document.head.append(css);
      const script = document.createElement('script');
      script.src = '/vendor/maplibre-gl.js';
      script.onload = () => {
        window.maplibregl.setWorkerUrl(new URL('/vendor/maplibre-gl-worker.js', location.href).href);
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

/** The basemap setting ({basemap_url, basemap_attribution}); none when it cannot be read. */
export async function mapConfig() {
  if (config) return config;
  try {
    const res = await fetch('/shared/config.json');
    if (res.ok) config = await res.json();
  } catch {
    // offline and never cached: a plain background
  }
  return config || { basemap_url: '', basemap_attribution: '' };
}

/** An XYZ raster template (…/{z}/{x}/{y}.png) becomes a raster layer over the background;
 * anything else set is a MapLibre style URL, used as it is. */
export function baseStyle(cfg, background = '#eef1f4') {
  const url = cfg.basemap_url || '';
  if (url && !url.includes('{z}')) return url;
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': background } }],
  };
  if (url) {
    style.sources.basemap = { type: 'raster', tiles: [url], tileSize: 256, attribution: cfg.basemap_attribution || '' };
    style.layers.push({ id: 'basemap', type: 'raster', source: 'basemap' });
  }
  return style;
}

/** A map in `container` on the base style, resolved once it has loaded. `background` is the
 * plain background's colour; the other options go to MapLibre. */
export async function createMap(container, { background, ...options } = {}) {
  const [maplibregl, cfg] = await Promise.all([loadMapLibre(), mapConfig()]);
  const map = new maplibregl.Map({
    container,
    style: baseStyle(cfg, background),
    center: [10.75, 59.91],
    zoom: 4,
    // Credit where a basemap is drawn; a plain background owes nobody.
    attributionControl: cfg.basemap_url ? { compact: true } : false,
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
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once('load', resolve)));
  return map;
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
