// The demo's document type: json0 (the host's default type, "http://sharejs.org/types/JSONv0") cut down to what this page
// sends, list inserts ({p: [key, i], li}) and list deletes ({p: [key, i], ld}) in the lists of the document's top level.
// The server transforms and applies with its full json0, and these functions give the same results for these components, so
// this page's SharedDoc can transform remote ops against its pending ones and roll a refused one back. A component of any
// other kind is refused with an error (an app that edits more of a document uses the full ot-json0 package from npm).

const isList = (c) => Array.isArray(c?.p) && c.p.length === 2 && typeof c.p[0] === "string" && Number.isInteger(c.p[1]) && c.p[1] >= 0;
const isInsert = (c) => "li" in c && !("ld" in c);
const isDelete = (c) => "ld" in c && !("li" in c);

function check(op) {
  if (!Array.isArray(op)) throw new Error("A json0 op is an array of components.");
  for (const c of op) if (!isList(c) || isInsert(c) === isDelete(c)) throw new Error("This page only edits top-level lists (li or ld).");
}

const copy = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

/**
 * Component `c` transformed so that it applies after `other` (both written against one document); null when nothing is left
 * of it. On a tie (both insert at one index), the "left" component goes first.
 */
function transformComponent(c, other, side) {
  if (c.p[0] !== other.p[0]) return c;
  const at = c.p[1];
  const theirs = other.p[1];
  const moved = (index) => ({ ...c, p: [c.p[0], index] });
  if (isInsert(other)) {
    if (isInsert(c) && at === theirs) return side === "right" ? moved(at + 1) : c;
    return theirs <= at ? moved(at + 1) : c;
  }
  if (theirs < at) return moved(at - 1);
  if (theirs === at && isDelete(c)) return null; // both deleted the same item: it is deleted once
  return c;
}

/** Each op transformed against the other: [left after right, right after left]. */
function transformX(left, right) {
  let rest = right;
  const result = [];
  for (const first of left) {
    let c = first;
    const next = [];
    for (const r of rest) {
      const rAfter = c ? transformComponent(r, c, "right") : r;
      c = c && transformComponent(c, r, "left");
      if (rAfter) next.push(rAfter);
    }
    if (c) result.push(c);
    rest = next;
  }
  return [result, rest];
}

export const listType = {
  name: "json0",
  uri: "http://sharejs.org/types/JSONv0",
  create: (data) => copy(data ?? null),
  apply(snapshot, op) {
    check(op);
    for (const c of op) {
      const list = snapshot?.[c.p[0]];
      if (!Array.isArray(list) || c.p[1] > list.length - (isDelete(c) ? 1 : 0)) throw new Error("The list or its item is not there.");
      if (isInsert(c)) list.splice(c.p[1], 0, copy(c.li));
      else list.splice(c.p[1], 1);
    }
    return snapshot;
  },
  transform(op, other, side) {
    check(op);
    check(other);
    return side === "left" ? transformX(op, other)[0] : transformX(other, op)[1];
  },
  transformX(left, right) {
    check(left);
    check(right);
    return transformX(left, right);
  },
  compose: (a, b) => [...a, ...b],
  invert: (op) => op.map((c) => (isInsert(c) ? { p: [...c.p], ld: copy(c.li) } : { p: [...c.p], li: copy(c.ld) })).reverse(),
  normalize: (op) => (Array.isArray(op) ? op : [op]),
};
