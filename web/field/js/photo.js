// Photos are shrunk on the phone (longest side at most 2048 px, JPEG) before they are queued,
// so they cost little data on a weak network. Orientation is applied while decoding; nothing
// else of the original's metadata survives re-encoding (the server strips it again anyway).
export const MAX_SIDE = 2048;
export const QUALITY = 0.82;

export async function shrink(file, maxSide = MAX_SIDE) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    // A format this browser cannot decode (HEIC on most): send the original, the server reads it.
    return file;
  }
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d').drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
  // Keep whichever is smaller: a small JPEG re-encoded can grow.
  return blob && (blob.size < file.size || file.type !== 'image/jpeg') ? blob : file;
}
