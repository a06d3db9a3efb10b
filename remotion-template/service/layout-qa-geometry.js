// Layout QA's geometry (a part of layout-qa.js, joined with it by page-script.mjs): where a text's
// lines are, and the boxes around them.
/* exported vidgenLayoutQaGeometry */
function vidgenLayoutQaGeometry() {
  // The boxes of an element's own lines of text (an SVG text's one box).
  const textRects = (el) => {
    if (el instanceof SVGElement) {
      const r = el.getBoundingClientRect();
      return r.width && r.height ? [r] : [];
    }
    const rects = [];
    const range = document.createRange();
    for (const node of el.childNodes) {
      if (node.nodeType !== 3 || !node.textContent.trim()) continue;
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) if (r.width > 0.5 && r.height > 0.5) rects.push(r);
    }
    return rects;
  };
  const union = (rects) => {
    const u = {left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity};
    for (const r of rects) {
      u.left = Math.min(u.left, r.left);
      u.top = Math.min(u.top, r.top);
      u.right = Math.max(u.right, r.right);
      u.bottom = Math.max(u.bottom, r.bottom);
    }
    u.width = u.right - u.left;
    u.height = u.bottom - u.top;
    return u;
  };
  const intersect = (a, b) => {
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > 0 && h > 0 ? w * h : 0;
  };
  const round = (r) => ({x: Math.round(r.left), y: Math.round(r.top), width: Math.round(r.width), height: Math.round(r.height)});
  // The glyphs sit inside the line box; trimming its leading keeps tightly set lines apart.
  const glyphs = (r) => {
    const trim = r.height * 0.18;
    return {left: r.left, right: r.right, top: r.top + trim, bottom: r.bottom - trim};
  };
  return {textRects, union, intersect, round, glyphs};
}
