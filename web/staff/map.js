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
