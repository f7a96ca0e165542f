/**
 * Export: the current view of the graph as SVG or PNG, the trace as JSON.
 * The SVG copy carries its computed styles as attributes so it looks the
 * same outside the page.
 */

const STYLE_PROPS = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'font-size', 'font-family', 'font-weight', 'font-style', 'opacity', 'paint-order', 'stroke-linejoin'];

/** Save a blob as a file the browser downloads. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A standalone SVG string of the graph as it is drawn now. */
export function svgText(svg) {
  const clone = svg.cloneNode(true);
  const src = svg.querySelectorAll('*');
  const dst = clone.querySelectorAll('*');
  for (let i = 0; i < src.length; i += 1) {
    const cs = getComputedStyle(src[i]);
    for (const p of STYLE_PROPS) {
      const v = cs.getPropertyValue(p);
      if (v) dst[i].setAttribute(p, v);
    }
    // The texts of steps not reached yet are drawn, and hidden by a class.
    if (cs.visibility === 'hidden') dst[i].setAttribute('visibility', 'hidden');
  }
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const r = svg.getBoundingClientRect();
  clone.setAttribute('width', String(Math.round(r.width)));
  clone.setAttribute('height', String(Math.round(r.height)));
  const bg = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  const [x, y, w, h] = (svg.getAttribute('viewBox') || '0 0 100 100').split(/\s+/).map(Number);
  for (const [k, v] of Object.entries({ x, y, width: w, height: h, fill: '#ffffff' })) bg.setAttribute(k, String(v));
  clone.insertBefore(bg, clone.firstChild);
  clone.querySelectorAll('.measure').forEach((n) => n.remove());
  return new XMLSerializer().serializeToString(clone);
}

export function exportSvg(svg, filename = 'gradtrace.svg') {
  download(new Blob([svgText(svg)], { type: 'image/svg+xml' }), filename);
}

/** The same picture as a PNG, at twice the screen's pixels so it stays sharp on slides. */
export function exportPng(svg, filename = 'gradtrace.png') {
  return new Promise((resolve, reject) => {
    const text = svgText(svg);
    const r = svg.getBoundingClientRect();
    const img = new Image();
    const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
    img.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = Math.round(r.width * 2);
      canvas.height = Math.round(r.height * 2);
      const ctx = canvas.getContext('2d');
      ctx.scale(2, 2);
      ctx.drawImage(img, 0, 0, r.width, r.height);
      URL.revokeObjectURL(url);
      canvas.toBlob((blob) => {
        if (blob) {
          download(blob, filename);
          resolve();
        } else reject(new Error('the PNG could not be made'));
      }, 'image/png');
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error('the PNG could not be made'));
    };
    img.src = url;
  });
}

export function exportJson(trace, filename = 'gradtrace-trace.json') {
  download(new Blob([JSON.stringify(trace, null, 2)], { type: 'application/json' }), filename);
}
