// The map view, loaded only when it is opened: the walk's area, route and observations on the
// shared map (web/shared/map.js), in the theme's colours.
import { createMap, fit } from '../../shared/map.js';

let map = null;
let pickMarker = null;
let pickHandler = null;

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** `walk` is the walk's map feed (area, route, observations). `focus` says what the map opens on: 'area' (the walk's area and route), a {lon, lat} pin
 * (at street level, the pin being placed), or by default everything with `center`. */
export async function showWalkMap(container, { walk: feed, mine, center, focus = null, lamps = [], pick, onPick, markerLabel }) {
  const walk = feed || { type: 'FeatureCollection', features: [] };
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
  // The lamps kept at join, drawn small under the reports.
  const lampData = {
    type: 'FeatureCollection',
    features: lamps.map(([id, kind, number, lon, lat]) => ({ type: 'Feature', id, geometry: { type: 'Point', coordinates: [lon, lat] }, properties: { kind, number } })),
  };

  if (!map) {
    map = await createMap(container, { background: cssVar('--map-bg') || '#eef1f4', center: [5.73, 58.85], zoom: 14 });
    map.addSource('walk', { type: 'geojson', data });
    map.addLayer({ id: 'area', type: 'fill', source: 'walk', filter: ['==', ['get', 'kind'], 'area'], paint: { 'fill-color': cssVar('--accent') || '#1f6feb', 'fill-opacity': 0.08 } });
    map.addLayer({ id: 'area-line', type: 'line', source: 'walk', filter: ['==', ['get', 'kind'], 'area'], paint: { 'line-color': cssVar('--accent') || '#1f6feb', 'line-width': 1.5, 'line-dasharray': [2, 2] } });
    map.addLayer({ id: 'route', type: 'line', source: 'walk', filter: ['==', ['get', 'kind'], 'route'], paint: { 'line-color': cssVar('--route') || '#7c3aed', 'line-width': 4 } });
    map.addSource('lamps', { type: 'geojson', data: lampData });
    map.addLayer({ id: 'lamps', type: 'circle', source: 'lamps', minzoom: 15, paint: { 'circle-radius': 4, 'circle-color': cssVar('--lamp') || '#f2c94c', 'circle-stroke-color': '#333333', 'circle-stroke-width': 1 } });
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
    map.getSource('lamps').setData(lampData);
    map.resize();
  }
  const pin = focus && focus !== 'area' ? focus : null;
  if (focus === 'area') {
    const shape = { type: 'FeatureCollection', features: features.filter((f) => ['area', 'route'].includes(f.properties?.kind)) };
    fit(map, shape.features.length ? shape : data, 17);
  } else if (pin) {
    map.jumpTo({ center: [pin.lon, pin.lat], zoom: 17 });
  } else {
    fit(map, data, 17, ...(center ? [[center.lon, center.lat]] : []));
  }
  pickMarker?.remove();
  pickMarker = null;
  pickHandler = pick
    ? (lngLat) => {
      if (!pickMarker) {
        pickMarker = new window.maplibregl.Marker({ color: cssVar('--mine') || '#d9480f' }).setLngLat(lngLat).addTo(map);
        // MapLibre labels the marker's div without a role; an image with a name is what it is.
        pickMarker.getElement().setAttribute('role', 'img');
        pickMarker.getElement().setAttribute('aria-label', markerLabel);
      }
      pickMarker.setLngLat(lngLat);
      onPick(lngLat.lng, lngLat.lat);
    }
    : null;
  // The pin being placed starts where it is; over the area, where the user taps.
  const start = focus === 'area' ? null : pin || center;
  if (pick && start) pickHandler(new window.maplibregl.LngLat(start.lon, start.lat));
}
