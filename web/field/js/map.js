// The map view, loaded only when it is opened: MapLibre (CSP build, from npm, served by the
// service) with the walk's area, route and observations. Without a configured basemap the
// features are drawn on a plain background, which needs no third-party request at all.
import * as api from './api.js';

let maplibre = null;
let map = null;
let pickMarker = null;
let pickHandler = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

async function library() {
  if (maplibre) return maplibre;
  const css = document.createElement('link');
  css.rel = 'stylesheet';
  css.href = 'vendor/maplibre/maplibre-gl.css';
  document.head.append(css);
  await loadScript('vendor/maplibre/maplibre-gl-csp.js');
  maplibre = window.maplibregl;
  maplibre.setWorkerUrl(new URL('vendor/maplibre/maplibre-gl-csp-worker.js', location.href).href);
  return maplibre;
}

async function config() {
  try {
    const res = await fetch('config.json');
    return await res.json();
  } catch {
    return { basemap_url: '' };
  }
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The basemap setting is an XYZ raster template (…/{z}/{x}/{y}.png) or a MapLibre style URL
 * (the staff web reads the same setting); empty: a plain background. */
function style(cfg) {
  if (cfg.basemap_url && !cfg.basemap_url.includes('{z}')) return cfg.basemap_url;
  const sources = {};
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': cssVar('--map-bg') || '#eef1f4' } }];
  if (cfg.basemap_url) {
    sources.basemap = {
      type: 'raster',
      tiles: [cfg.basemap_url],
      tileSize: 256,
      attribution: cfg.basemap_attribution || '',
    };
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap' });
  }
  return { version: 8, sources, layers };
}

/** The walk's features, from the network, else the copy kept from the last time. */
async function walkFeatures(session) {
  const key = `safewalk.walkmap.${session.walk_id}`;
  try {
    const res = await api.walkMap(session);
    if (res.status === 200 && res.body?.features) {
      localStorage.setItem(key, JSON.stringify(res.body));
      return res.body;
    }
  } catch {
    // offline
  }
  try {
    return JSON.parse(localStorage.getItem(key)) || { type: 'FeatureCollection', features: [] };
  } catch {
    return { type: 'FeatureCollection', features: [] };
  }
}

function extend(bounds, coords) {
  if (typeof coords[0] === 'number') {
    bounds[0] = Math.min(bounds[0], coords[0]);
    bounds[1] = Math.min(bounds[1], coords[1]);
    bounds[2] = Math.max(bounds[2], coords[0]);
    bounds[3] = Math.max(bounds[3], coords[1]);
  } else for (const c of coords) extend(bounds, c);
}

export async function showWalkMap(container, { session, mine, center, pick, onPick, markerLabel }) {
  const [lib, cfg, walk] = await Promise.all([library(), config(), walkFeatures(session)]);
  const mineIds = new Set(mine.map((m) => m.id));
  const features = walk.features.map((f) => ({
    ...f,
    properties: { ...f.properties, mine: mineIds.has(String(f.id)) },
  }));
  // Mine that have not reached the server yet are drawn from the queue.
  const known = new Set(walk.features.map((f) => String(f.id)));
  for (const m of mine) {
    if (!known.has(m.id)) {
      features.push({ type: 'Feature', id: m.id, geometry: { type: 'Point', coordinates: m.coordinates }, properties: { kind: 'observation', mine: true } });
    }
  }
  const data = { type: 'FeatureCollection', features };
  const bounds = [Infinity, Infinity, -Infinity, -Infinity];
  for (const f of features) if (f.geometry) extend(bounds, f.geometry.coordinates);
  if (center) extend(bounds, [center.lon, center.lat]);

  if (!map) {
    map = new lib.Map({
      container,
      style: style(cfg),
      center: [5.73, 58.85],
      zoom: 14,
      attributionControl: cfg.basemap_url ? {} : false,
    });
    map.addControl(new lib.NavigationControl({ showCompass: false }));
    await new Promise((resolve) => map.once('load', resolve));
    map.addSource('walk', { type: 'geojson', data });
    map.addLayer({ id: 'area', type: 'fill', source: 'walk', filter: ['==', ['get', 'kind'], 'area'], paint: { 'fill-color': cssVar('--accent') || '#1f6feb', 'fill-opacity': 0.08 } });
    map.addLayer({ id: 'area-line', type: 'line', source: 'walk', filter: ['==', ['get', 'kind'], 'area'], paint: { 'line-color': cssVar('--accent') || '#1f6feb', 'line-width': 1.5, 'line-dasharray': [2, 2] } });
    map.addLayer({ id: 'route', type: 'line', source: 'walk', filter: ['==', ['get', 'kind'], 'route'], paint: { 'line-color': cssVar('--route') || '#7c3aed', 'line-width': 4 } });
    map.addLayer({
      id: 'points',
      type: 'circle',
      source: 'walk',
      filter: ['==', ['get', 'kind'], 'observation'],
      paint: {
        'circle-radius': ['case', ['get', 'mine'], 8, 6],
        'circle-color': ['case', ['get', 'mine'], cssVar('--mine') || '#d9480f', cssVar('--others') || '#5c6b7a'],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 2,
      },
    });
    map.on('click', (e) => pickHandler?.(e.lngLat));
  } else {
    map.getSource('walk').setData(data);
    map.resize();
  }
  if (Number.isFinite(bounds[0])) {
    if (bounds[0] === bounds[2] && bounds[1] === bounds[3]) map.jumpTo({ center: [bounds[0], bounds[1]], zoom: 17 });
    else map.fitBounds([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], { padding: 30, maxZoom: 18, duration: 0 });
  }
  pickMarker?.remove();
  pickMarker = null;
  pickHandler = pick
    ? (lngLat) => {
      if (!pickMarker) {
        pickMarker = new lib.Marker({ color: cssVar('--mine') || '#d9480f' }).setLngLat(lngLat).addTo(map);
        // MapLibre labels the marker's div without a role; an image with a name is what it is.
        pickMarker.getElement().setAttribute('role', 'img');
        pickMarker.getElement().setAttribute('aria-label', markerLabel);
      }
      pickMarker.setLngLat(lngLat);
      onPick(lngLat.lng, lngLat.lat);
    }
    : null;
  if (pick && center) pickHandler(new lib.LngLat(center.lon, center.lat));
}
