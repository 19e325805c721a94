// The npm originals' side of the differential tests (tests/Realtime.Shared.Tests/Ot/DifferentialTests.cs).
// Usage: node driver.mjs <cases.json> <results.json>
// Input: {"cases":[{"type":"json0"|"text-unicode","doc":…,"a":op,"b":op}, …]}, a and b written concurrently against doc.
// Output: {"results":[{applyA, applyB, left, right, compose, applyComposed, invertA}, …]}, each {"v":value} or {"e":message}:
//   left = transform(a, b, "left"), right = transform(b, a, "right"), compose = compose(a, right),
//   applyComposed = apply(doc, compose), invertA = invert(a) (only for ops the type can invert).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const types = {
  json0: require('ot-json0').type,
  'text-unicode': require('ot-text-unicode').type,
};

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node driver.mjs <cases.json> <results.json>');
  process.exit(2);
}

// The types may change what they are given (json0's apply edits the snapshot in place), and results may share objects
// with their inputs: every call gets its own copy.
const copy = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

// Half a surrogate pair written as <lone:hex>, in strings and keys, so a JSON reader that insists on well-formed text (.NET's)
// still reads the result; the C# side writes its results the same way before comparing. (json0 can split a pair: its offsets
// count UTF-16 units.)
const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const markLone = (text) => text.replace(LONE, (unit) => `<lone:${unit.charCodeAt(0).toString(16)}>`);
function wellFormed(value) {
  if (typeof value === 'string') return markLone(value);
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [markLone(key), wellFormed(item)]));
  }
  return value;
}

function run(fn) {
  try {
    const value = fn();
    return { v: value === undefined ? null : wellFormed(copy(value)) };
  } catch (error) {
    return { e: markLone(String(error && error.message ? error.message : error)) };
  }
}

const { cases } = JSON.parse(readFileSync(input, 'utf8'));
const results = cases.map(({ type: name, doc, a, b, invert }) => {
  const type = types[name];
  if (!type) return { error: `unknown type ${name}` };
  const result = {
    applyA: run(() => type.apply(copy(doc), copy(a))),
    applyB: run(() => type.apply(copy(doc), copy(b))),
    left: run(() => type.transform(copy(a), copy(b), 'left')),
    right: run(() => type.transform(copy(b), copy(a), 'right')),
  };
  if ('v' in result.right) {
    result.compose = run(() => type.compose(copy(a), copy(result.right.v)));
    if ('v' in result.compose) result.applyComposed = run(() => type.apply(copy(doc), copy(result.compose.v)));
  }
  if (invert) result.invertA = run(() => type.invert(copy(a)));
  return result;
});
writeFileSync(output, JSON.stringify({ results }));
