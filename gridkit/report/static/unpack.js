/* gridkit report: unpacking the map data while the page is still being read. The data comes
   in several base64 pieces of one gzip stream (gk-data-0, gk-data-1, …); a short script after
   each hands it to a worker, which decodes and inflates it on another thread as the browser
   goes on parsing. Without workers (or if the worker fails) the same is done on the main
   thread at the end. Defines window.gridkitUnpack = { feed(k), done() → Promise<ArrayBuffer>,
   where }. */
(() => {
  'use strict';
  if (window.gridkitUnpack) return;
  const header = JSON.parse(document.getElementById('gk-header').textContent);
  const size = header.json[0] + header.json[1];
  const pieces = header.pieces;
  const text = (k) => document.getElementById(`gk-data-${k}`).textContent.trim();

  // Runs in the worker: base64 → bytes → the browser's own gzip, into one buffer of known size.
  function inflater(size) {
    const stream = new DecompressionStream('gzip');
    const writer = stream.writable.getWriter();
    const out = new Uint8Array(size);
    const bytes = (b64) => {
      if (Uint8Array.fromBase64) return Uint8Array.fromBase64(b64);
      const binary = atob(b64), array = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) array[i] = binary.charCodeAt(i);
      return array;
    };
    const read = (async () => {
      const reader = stream.readable.getReader();
      let at = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (at + value.length > size) throw new Error('map data longer than its header says');
        out.set(value, at);
        at += value.length;
      }
      if (at !== size) throw new Error('map data shorter than its header says');
      return out.buffer;
    })();
    read.catch(() => {});
    return {
      write: (b64) => { writer.write(bytes(b64)).catch(() => {}); },
      end: () => { writer.close().catch(() => {}); return read; },
    };
  }

  // On the main thread: everything at once, once the page is read.
  function here() {
    const inflate = inflater(size);
    for (let k = 0; k < pieces; k++) inflate.write(text(k));
    return inflate.end();
  }

  let worker = null, result = null, failed = false, instead = null;
  const fed = new Set();
  try {
    const code = `const inflater = ${inflater.toString()};
      let inflate = null;
      onmessage = (e) => {
        const m = e.data;
        if (m.size !== undefined) inflate = inflater(m.size);
        else if (m.text !== undefined) inflate.write(m.text);
        else inflate.end().then((b) => postMessage(b, [b]), (err) => postMessage(String(err?.message || err)));
      };`;
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    worker = new Worker(url);
    URL.revokeObjectURL(url);
    // A worker the browser refuses to run (a policy, an old engine): the main thread does it.
    worker.onerror = (e) => {
      e.preventDefault();
      failed = true;
      if (instead) instead();
    };
    worker.postMessage({ size });
  } catch (e) {
    worker = null;
  }

  window.gridkitUnpack = {
    // Where the data was inflated: 'worker', or 'page' when the main thread had to.
    get where() { return worker && !failed ? 'worker' : 'page'; },
    feed(k) {
      if (!worker || fed.has(k)) return;
      fed.add(k);
      worker.postMessage({ text: text(k) });
    },
    done() {
      if (result) return result;
      if (!worker) return (result = here());
      for (let k = 0; k < pieces; k++) this.feed(k);
      result = new Promise((resolve, reject) => {
        instead = () => resolve(here());
        if (failed) return instead();
        worker.onmessage = (e) => (typeof e.data === 'string' ? reject(new Error(e.data)) : resolve(e.data));
        worker.postMessage({ end: true });
      }).finally(() => worker.terminate());
      return result;
    },
  };
})();
