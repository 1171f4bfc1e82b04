// Runs the browser's kernel in Node on a payload Python wrote and prints what it computes, for
// tests/test_web_kernel.py to hold against the Python kernel:  node run_kernel.mjs PAYLOAD.bin CASES.json
import { readFileSync } from 'node:fs';
import { makeApi } from '../../iconicity_core/web/js/api.js';
import { fromContainer, load } from '../../iconicity_core/web/js/data.js';
import { crtGrid, distributions, modelRows, rankingStability, readingFacts, resolve } from '../../iconicity_core/web/js/kernel.js';
import { reading } from '../../iconicity_core/web/js/text.js';

const [payloadPath, casesPath] = process.argv.slice(2);
const c = fromContainer(readFileSync(payloadPath));
const D = load(c.meta, c.blob);
const api = makeApi(() => D);
const cases = JSON.parse(readFileSync(casesPath, 'utf8'));
const nul = (x) => (typeof x === 'number' && isNaN(x) ? null : x);
const out = cases.map((k) => {
  const res = {};
  if (k.model) res.model = api.modelTable(k.params);
  if (k.reference) res.reference = api.referenceTable(k.params);
  if (k.curves) res.curves = api.curves(k.params);
  if (k.grid) {
    const r = resolve(D, k.params), idx = k.grid.map((t) => Math.round(t * 100));
    const g = crtGrid(D, r, idx, idx);
    res.grid = {models: g.models, crt: Object.fromEntries(g.models.map((m) => [m, g.crt[m].map((row) => row.map(nul))]))};
    res.stability = rankingStability(g, k.params.clip_tau, k.params.patch_tau).map((row) => row.map(nul));
  }
  if (k.distributions) res.distributions = distributions(D, resolve(D, k.params));
  if (k.correlations) res.correlations = api.correlations(k.params, k.correlations);
  if (k.reading) {
    const rows = modelRows(D, resolve(D, k.params)).filter((x) => x.kind === k.reading.kind && x.variant === k.reading.variant);
    const f = readingFacts(rows);
    res.reading = {case: f.case, sentence: reading(D.meta.text, rows, resolve(D, k.params).pooling),
                   reinterprets: f.reinterprets ? f.reinterprets.model : null, replicates: f.replicates ? f.replicates.model : null,
                   one: f.model ? f.model.model : null};
  }
  return res;
});
process.stdout.write(JSON.stringify(out));
