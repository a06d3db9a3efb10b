// What an element is, as a problem names it (a part of layout-qa.js, joined with it by page-script.mjs):
// its tag, its text, its picture's file, the React components around it and where the video writes it.
/* exported vidgenLayoutQaElements */
/**
 * @param {ReturnType<typeof vidgenLayoutQaColors>} colors
 * @param {ReturnType<typeof vidgenLayoutQaPaint>} paint
 */
function vidgenLayoutQaElements(colors, paint) {
  const {parseColor, hex} = colors;
  const {style, tag} = paint;
  const MAX_TEXT = 40;

  const reactNames = (el) => {
    const key = Object.keys(el).find((k) => k.startsWith('__reactFiber$'));
    const names = [];
    for (let fiber = key ? el[key] : null; fiber && names.length < 12; fiber = fiber.return) {
      const type = fiber.type;
      const fn = typeof type === 'function' ? type : type && typeof type === 'object' ? type.render || type.type : null;
      const name = fn && (fn.displayName || fn.name);
      if (name && /^[A-Z]/.test(name) && !names.includes(name)) names.push(name);
    }
    return names;
  };
  const ownText = (el) =>
    Array.from(el.childNodes)
      .filter((n) => n.nodeType === 3)
      .map((n) => n.textContent)
      .join('')
      .replace(/\s+/g, ' ')
      .trim();
  // Where the element is written: the bundle's data-vg-src stamp, its own or its nearest stamped ancestor's.
  const sourceOf = (el) => el.closest('[data-vg-src]')?.getAttribute('data-vg-src') ?? null;
  const describe = (el) => {
    const text = ownText(el);
    const address = tag(el) === 'img' ? el.getAttribute('src') || '' : '';
    const src = address.startsWith('data:') ? '' : address.split(/[?#]/)[0].split('/').pop(); // a data: URI has no name
    return {
      tag: tag(el),
      text: text.length > MAX_TEXT ? text.slice(0, MAX_TEXT - 1) + '…' : text,
      fullText: text.slice(0, 200),
      src,
      components: reactNames(el),
      source: sourceOf(el),
      background: hex(parseColor(style(el).backgroundColor) || {r: 0, g: 0, b: 0}),
    };
  };
  return {ownText, describe};
}
