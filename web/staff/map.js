// The staff web's maps: the shared loader and base style (web/shared/map.js), and the
// colours of the item statuses.
import { createMap as createSharedMap } from '../shared/map.js';
import { t } from './i18n.js';

export { fit } from '../shared/map.js';

// Screenshots of a map (tests, printing the join sheet) need the drawing buffer kept; the
// field app does without, as it costs phones memory.
// Staff are told when the service has no basemap, so a blank background is not a mystery.
export function createMap(container, options = {}) {
  return createSharedMap(container, { preserveDrawingBuffer: true, noBasemapNote: t('map.no_basemap'), ...options });
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

/** Metres between two [lon, lat] points along the sphere: enough to order a few nearby
 * candidates for a person (the server's own distances come from geo/). */
export function metresBetween([lon1, lat1], [lon2, lat2]) {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2
    + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(a));
}

/** [[west, south], [east, north]] around a [lon, lat] point, `metres` each way. */
export function boxAround([lon, lat], metres) {
  const dLat = metres / 111_320;
  const dLon = metres / (111_320 * Math.cos((lat * Math.PI) / 180));
  return [[lon - dLon, lat - dLat], [lon + dLon, lat + dLat]];
}
