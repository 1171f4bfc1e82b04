/* The run's data as the browser holds it: decoded once from the payload that Python wrote
 * (iconicity_core/web/payload.py), never copied per move.
 *
 * A payload is a JSON header ("meta": names, titles, covariates, the threshold grid, texts) and one blob of
 * little-endian arrays laid out as meta.layout says: the integer codes of each image's model, reference and
 * prompt variant, and one byte per similarity — how many thresholds of the grid 0.00, 0.01, ..., 1.00 it
 * passes under the run's rule, so it passes grid threshold j exactly when its byte is > j.
 *
 * Two wrappings of the same payload: the dashboard receives raw bytes ("ICX1", header length, header, blob);
 * the shared file carries the header as JSON with the blob in base64 (meta.blob).
 */

const MAGIC = 'ICX1';
const TYPES = {u8: Uint8Array, u16: Uint16Array, u32: Uint32Array};

/** The header and the blob of a container (the dashboard's bytes). Copies the blob once so typed arrays align. */
export function fromContainer(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.length < 8 || String.fromCharCode(u8[0], u8[1], u8[2], u8[3]) !== MAGIC)
    throw new Error('not an Iconicity Explorer payload');
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const headerLength = view.getUint32(4, true);
  if (8 + headerLength > u8.length) throw new Error('the payload is cut short');
  const meta = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + headerLength)));
  const start = 8 + headerLength + ((8 - (headerLength % 8)) % 8);
  return {meta, blob: u8.slice(start)};
}

/** Only the header of a container (cheap: to tell whether these bytes are already loaded). */
export function peekMeta(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  return JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + view.getUint32(4, true))));
}

/** Base64 to bytes (the shared file's blob). */
export function fromBase64(s) {
  const bin = atob(s), n = bin.length, u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = bin.charCodeAt(i);
  return u;
}

/** The data every kernel function reads: meta, typed arrays over the blob, sizes, the kind of each reference
 *  and the (model, reference, variant) group of each image (groups sort as Python sorts them). */
export function load(meta, blob) {
  const arrays = {};
  for (const [name, spec] of Object.entries(meta.layout)) {
    if (spec === null) { arrays[name] = null; continue; }
    const T = TYPES[spec.type];
    if (!T) throw new Error('unknown array type ' + spec.type);
    if (spec.offset % T.BYTES_PER_ELEMENT || spec.offset + spec.length * T.BYTES_PER_ELEMENT > blob.byteLength)
      throw new Error('array ' + name + ' does not fit the payload');
    arrays[name] = new T(blob.buffer, blob.byteOffset + spec.offset, spec.length);
  }
  const N = meta.n, K = meta.k, NM = meta.models.length, NS = meta.slugs.length, NV = meta.variants.length;
  for (const [name, len] of [['model', N], ['slug', N], ['variant', N], ['clip', N], ['cells', N * K]])
    if (!arrays[name] || arrays[name].length !== len) throw new Error('array ' + name + ' has the wrong length');
  if (!Array.isArray(meta.grid.taus) || meta.grid.taus.length !== meta.grid.n) throw new Error('the threshold grid is damaged');
  if (!Array.isArray(meta.refs.dynamic) || meta.refs.dynamic.length !== NS) throw new Error('the references\' kinds are damaged');
  for (const c of meta.refs.covariate_names || []) {
    const v = (meta.refs.covariates || {})[c];
    if (!Array.isArray(v) || v.length !== NS) throw new Error('the values of covariate ' + c + ' are damaged');
  }
  const dynamic = new Uint8Array(NS);
  meta.refs.dynamic.forEach((d, s) => { dynamic[s] = d ? 1 : 0; });
  const group = new Int32Array(N), dynImage = new Uint8Array(N);
  const {model, slug, variant} = arrays;
  for (let i = 0; i < N; i++) {
    if (model[i] >= NM || slug[i] >= NS || variant[i] >= NV) throw new Error('image ' + i + ' names an unknown model, reference or variant');
    group[i] = (model[i] * NS + slug[i]) * NV + variant[i];
    dynImage[i] = dynamic[slug[i]];
  }
  return {meta, A: arrays, N, K, NM, NS, NV, G: NM * NS * NV, dynamic, dynImage, group, memo: new Map(), memoKeys: {},
          scratch: {}, blobBytes: blob.byteLength};
}

/** Bytes the data holds in typed arrays: the payload, the per-image groups and counts (what a page's memory is
 *  mostly made of; the memoised tables are bounded by kernel.remember). */
export function heldBytes(D) {
  let n = D.blobBytes + D.group.byteLength + D.dynamic.byteLength + D.dynImage.byteLength;
  for (const k of (D.scratch.keep || [])) n += k.out.byteLength;
  for (const c of (D.scratch.counts || [])) n += c.out.byteLength;
  return n;
}
