// How far a position is from the walk's area and route, in metres: the server's rule
// (geo/nearness.py), so the phone catches a far position before it queues it instead of the
// server refusing it later. The same frame too: the shapes are scaled once into metres on a
// plane tangent at the centre of their bounds, with the ellipsoid's degree lengths there
// (geo/units.py metres_per_degree); within a few kilometres the error stays under 0.1 %.

function metresPerDegree(lat) {
  const phi = (lat * Math.PI) / 180;
  const perLat = 111132.92 - 559.82 * Math.cos(2 * phi) + 1.175 * Math.cos(4 * phi);
  const perLon = 111412.84 * Math.cos(phi) - 93.5 * Math.cos(3 * phi);
  return [perLon, perLat];
}

function segmentDistance([px, py], [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const u = len2 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
  return Math.hypot(px - (ax + u * dx), py - (ay + u * dy));
}

function lineDistance(p, line) {
  if (line.length === 1) return Math.hypot(p[0] - line[0][0], p[1] - line[0][1]);
  let best = Infinity;
  for (let i = 1; i < line.length; i += 1) best = Math.min(best, segmentDistance(p, line[i - 1], line[i]));
  return best;
}

/** Even-odd rule: inside the outer ring and outside every hole. */
function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function polygonDistance(p, rings) {
  const inside = inRing(p, rings[0]) && !rings.slice(1).some((hole) => inRing(p, hole));
  if (inside) return 0;
  return Math.min(...rings.map((ring) => lineDistance(p, ring)));
}

/** The parts of a GeoJSON geometry as [kind, coordinates] with kind point, line or polygon. */
function parts(geometry) {
  if (!geometry) return [];
  const c = geometry.coordinates;
  switch (geometry.type) {
    case 'Point': return [['line', [c]]];
    case 'MultiPoint': return c.map((pt) => ['line', [pt]]);
    case 'LineString': return [['line', c]];
    case 'MultiLineString': return c.map((l) => ['line', l]);
    case 'Polygon': return [['polygon', c]];
    case 'MultiPolygon': return c.map((poly) => ['polygon', poly]);
    case 'GeometryCollection': return geometry.geometries.flatMap(parts);
    default: return [];
  }
}

/** The walk's fence from its map feed (its area and route features), or null when the walk
 * has neither: then, as on the server, nothing is checked. */
export function fenceOf(feed) {
  const shapes = (feed?.features || [])
    .filter((f) => f.properties?.kind === 'area' || f.properties?.kind === 'route')
    .flatMap((f) => parts(f.geometry));
  if (!shapes.length) return null;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [kind, coords] of shapes) {
    for (const [x, y] of kind === 'polygon' ? coords.flat(1) : coords) {
      minX = Math.min(minX, x); maxX = Math.max(maxX, x);
      minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    }
  }
  const lon0 = (minX + maxX) / 2;
  const lat0 = (minY + maxY) / 2;
  const [kx, ky] = metresPerDegree(lat0);
  const toMetres = ([x, y]) => [(x - lon0) * kx, (y - lat0) * ky];
  const scaled = shapes.map(([kind, coords]) => [
    kind,
    kind === 'polygon' ? coords.map((ring) => ring.map(toMetres)) : coords.map(toMetres),
  ]);
  return {
    bounds: [[minX, minY], [maxX, maxY]],
    /** Metres from (lon, lat) to the nearest shape, 0 inside the area. */
    distance(lon, lat) {
      const p = toMetres([lon, lat]);
      return Math.min(...scaled.map(([kind, c]) => (kind === 'polygon' ? polygonDistance(p, c) : lineDistance(p, c))));
    },
  };
}
