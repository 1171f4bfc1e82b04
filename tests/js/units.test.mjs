// Unit tests of the engine's DOM-free modules: node --test tests/js/  (run by tests/test_web_js.py)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromBase64, fromContainer, load } from '../../iconicity_core/web/js/data.js';
import { fromHash, toHash } from '../../iconicity_core/web/js/hash.js';
import { kendallTau, readingFacts, tauIndex } from '../../iconicity_core/web/js/kernel.js';
import { pearson, percentile, ranks, spearman } from '../../iconicity_core/web/js/stats.js';
import { makeStore } from '../../iconicity_core/web/js/store.js';
import { csvCell, csvText, fill, fmt, pct } from '../../iconicity_core/web/js/text.js';

const META = {models: ['a,b', 'c'], slugs: ['x', 'y'], variants: ['title'], grid: {n: 101}};
const D = {meta: META};

test('a state survives the address bar, names with commas included', () => {
  const state = {clip_tau: 0.55, clip_tau_dynamic: 0.7, patch_tau: 0.6, pooling: 'all', match: 'any', models: ['a,b'],
                 kinds: [], variants: [], kind: 'all', variant: 'title', ref: 'y', corr_variant: 'title'};
  const back = fromHash(D, toHash(state), {});
  assert.deepEqual(back.notes, []);
  assert.deepEqual(back.state, state);
});

test('the address bar ignores what the file does not hold, with a note', () => {
  const {state, notes} = fromHash(D, '#clip_tau=0.555&models=zz,c&pooling=<b>&nope=1&%E0%A4%A=1', {clip_tau: 0.5});
  assert.equal(state.clip_tau, 0.5);
  assert.deepEqual(state.models, ['c']);
  assert.equal(notes.length, 5);
});

test('thresholds off the grid are refused', () => {
  assert.equal(tauIndex(D, 0.47, 't'), 47);
  assert.throws(() => tauIndex(D, 0.475, 't'), RangeError);
  assert.throws(() => tauIndex(D, 1.01, 't'), RangeError);
  assert.throws(() => tauIndex(D, NaN, 't'), TypeError);
});

test('ranks average ties as scipy.stats.rankdata; Spearman needs three points and spread', () => {
  assert.deepEqual(Array.from(ranks([3, 1, 3, 2])), [3.5, 1, 3.5, 2]);
  assert.equal(pearson([1, 2, 3], [2, 4, 6]), 1);
  assert.ok(Number.isNaN(spearman([1, 2], [1, 2]).rho));
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3]).rho));
  assert.equal(spearman([1, 2, 3, null], [3, 2, 1, 5]).rho, -1);
  assert.equal(percentile(Float64Array.from([0, 10]), 0.25), 2.5);
});

test("Kendall's tau-b with ties (scipy's default)", () => {
  assert.equal(kendallTau([1, 2, 3], [1, 2, 3]), 1);
  assert.equal(kendallTau([1, 2, 3], [3, 2, 1]), -1);
  assert.ok(Math.abs(kendallTau([1, 2, 2, 3], [1, 3, 2, 4]) - 0.912870929175277) < 1e-12);   // scipy.stats.kendalltau
  assert.ok(Number.isNaN(kendallTau([1, 1], [1, 1])));
});

test('the reading: nothing, one, a tie, or who reinterprets and who replicates', () => {
  assert.equal(readingFacts([{model: 'a', cra: 0, vr: NaN}]).case, 'none');
  assert.equal(readingFacts([{model: 'a', cra: 0.2, vr: 0.4}, {model: 'b', cra: 0, vr: NaN}]).case, 'one');
  assert.equal(readingFacts([{model: 'a', cra: 0.2, vr: 0.4}, {model: 'b', cra: 0.3, vr: 0.4}]).case, 'tie');
  const f = readingFacts([{model: 'a', cra: 0.9, vr: 0.7}, {model: 'b', cra: 0.3, vr: 0.1}, {model: 'c', cra: 0.5, vr: 0.8}]);
  assert.equal(f.reinterprets.model, 'b');
  assert.equal(f.replicates.model, 'c');
});

test('text: numbers, templates and spreadsheet-safe CSV', () => {
  assert.equal(fmt(NaN), '–');
  assert.equal(fmt(0.12345, 2), '0.12');
  assert.equal(pct(0.456), '46%');
  assert.equal(fill('{a} and {b} and {c}', {a: 1, b: '<x>'}), '1 and <x> and {c}');
  assert.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
  assert.equal(csvCell(-1), '-1');
  assert.equal(csvText([{a: 'x,y', b: null}]), 'a,b\n"x,y",\n');
});

test('a store tells its subscribers what changed, once', () => {
  const s = makeStore({a: 1, b: [1]}), seen = [];
  s.subscribe((state, changed, origin) => seen.push([changed, origin]));
  s.set({a: 1, b: [1]}, 'x');
  s.set({a: 2, b: [1]}, 'y');
  assert.deepEqual(seen, [[['a'], 'y']]);
});

test('a failing subscriber leaves the others their update, and its error is still raised', () => {
  const s = makeStore({a: 1}), seen = [];
  s.subscribe(() => { throw new Error('a broken view'); });
  s.subscribe((state) => seen.push(state.a));
  assert.throws(() => s.set({a: 2}, 'input'), /a broken view/);
  assert.deepEqual(seen, [2]);
  assert.equal(s.get().a, 2);
});

test('a payload that is damaged says so instead of computing nonsense', () => {
  assert.throws(() => fromContainer(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /not an Iconicity Explorer payload/);
  const header = new TextEncoder().encode(JSON.stringify({}));
  const bytes = new Uint8Array(8 + header.length);
  bytes.set([73, 67, 88, 49]); new DataView(bytes.buffer).setUint32(4, header.length + 100, true); bytes.set(header, 8);
  assert.throws(() => fromContainer(bytes), /cut short/);
  const meta = {n: 2, k: 1, models: ['m'], slugs: ['s'], variants: ['v'], grid: {n: 101, taus: new Array(101).fill(0)},
                refs: {dynamic: [false]}, layout: {model: {offset: 0, length: 2, type: 'u8'}, slug: {offset: 8, length: 2, type: 'u8'},
                variant: {offset: 16, length: 2, type: 'u8'}, clip: {offset: 24, length: 2, type: 'u8'}, cells: {offset: 32, length: 2, type: 'u8'}}};
  const blob = new Uint8Array(40);
  assert.equal(load(meta, blob).N, 2);
  blob[0] = 5;                                                   // a model code beyond the names
  assert.throws(() => load(meta, blob), /unknown model/);
  assert.throws(() => load({...meta, grid: {n: 101, taus: [0]}}, new Uint8Array(40)), /grid is damaged/);
  assert.throws(() => load({...meta, layout: {...meta.layout, cells: {offset: 32, length: 9, type: 'u8'}}}, new Uint8Array(40)), /does not fit/);
  assert.deepEqual(Array.from(fromBase64('AQID')), [1, 2, 3]);
});
