/* Words and numbers as a reader sees them. The sentences themselves are written once, in Python
 * (iconicity_core/web/text.py), and arrive with the data (meta.text); this module only fills them in. DOM-free.
 */
import { readingFacts } from './kernel.js';

/** A number with ``d`` decimals (3 by default); '–' for a missing one. */
export function fmt(x, d) {
  return x === null || x === undefined || (typeof x === 'number' && isNaN(x)) ? '–' : Number(x).toFixed(d === undefined ? 3 : d);
}

/** A fraction as a whole percentage: 0.456 -> '46%'. */
export function pct(x) { return x === null || x === undefined || isNaN(x) ? '–' : Math.round(x * 100) + '%'; }

/** The grid threshold of index j as text: 70 -> '0.70'. */
export function tauText(j) { return (j / 100).toFixed(2); }

/** ``template`` with every {name} replaced by values[name] (text, never markup). */
export function fill(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

/** The sentence that reads per-model rows (one kind, one variant), from the Python templates in ``text``. */
export function reading(text, rows, pooling) {
  const T = text.reading, f = readingFacts(rows), of = T.of_what[pooling] || '';
  if (!rows.length) return T.empty;
  if (f.case === 'none') return T.none;
  if (f.case === 'one') return fill(T.one, {model: f.model.model, cra: pct(f.model.cra), vr: pct(f.model.vr), of_what: of});
  if (f.case === 'tie') return fill(T.tie, {n: f.n, vr: pct(f.model.vr), of_what: of});
  const a = f.reinterprets, b = f.replicates;
  return fill(T.two, {reinterprets: a.model, r_cra: pct(a.cra), r_vr: pct(a.vr), r_crt: fmt(a.crt, 2), of_what: of,
                      replicates: b.model, p_cra: pct(b.cra), p_vr: pct(b.vr)});
}

/** A CSV cell that a spreadsheet shows as text (as iconicity_core.io.csvfiles): formulas neutralised. */
export function csvCell(v) {
  if (v === null || v === undefined || (typeof v === 'number' && isNaN(v))) return '';
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** Rows as CSV text (the columns of the first row). */
export function csvText(rows) {
  if (!rows.length) return '';
  const cols = Object.keys(rows[0]);
  return [cols.join(',')].concat(rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))).join('\n') + '\n';
}
