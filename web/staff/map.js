// MapLibre GL JS (the CSP build, from npm, served under /vendor) loaded on the first map page,
// and the base style: the configured basemap, or a plain background when there is none.

let loading = null;

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
        window.maplibregl.setWorkerUrl('/vendor/maplibre-gl-worker.js');
        // Start the worker now, not when the first map asks for it.
        window.maplibregl.prewarm();
        resolve(window.maplibregl);
      };
      script.onerror = () => reject(new Error('could not load the map library'));
      document.head.append(script);
    });
  }
  return loading;
}

export function basemapUrl() {
  return document.querySelector('meta[name="safewalk-basemap"]')?.content || '';
}

export function baseStyle() {
  const url = basemapUrl();
  if (url && /\.json(\?|$)/.test(url)) return url;
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } }],
  };
  if (url) {
    style.sources.basemap = { type: 'raster', tiles: [url], tileSize: 256, attribution: '© OpenStreetMap contributors' };
    style.layers.push({ id: 'basemap', type: 'raster', source: 'basemap' });
  }
  return style;
}

export async function createMap(container, options = {}) {
  const maplibregl = await loadMapLibre();
  const map = new maplibregl.Map({
    container,
    style: baseStyle(),
    center: [10.75, 59.91],
    zoom: 4,
    attributionControl: { compact: true },
    // Screenshots of the map (tests, printing) need the drawing buffer kept.
    preserveDrawingBuffer: true,
    ...options,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once('load', resolve)));
  return map;
}

export function bounds(fc) {
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
  return Number.isFinite(minX) ? [[minX, minY], [maxX, maxY]] : null;
}

export function fit(map, fc, maxZoom = 16) {
  const b = bounds(fc);
  if (b) map.fitBounds(b, { padding: 40, maxZoom, duration: 0 });
}

export const STATUS_COLOURS = {
  new: '#c2410c', triaged: '#b45309', planned: '#7c3aed', in_progress: '#1d4ed8',
  reopened: '#be123c', resolved: '#15803d', verified: '#166534', wont_fix: '#57534e',
  referred: '#0e7490', duplicate: '#78716c',
};

export function statusColourExpression() {
  return ['match', ['get', 'status'], ...Object.entries(STATUS_COLOURS).flat(), '#475569'];
}

export function emptyCollection() {
  return { type: 'FeatureCollection', features: [] };
}
