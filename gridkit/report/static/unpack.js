/* gridkit report: unpacking the map data while the page is still being read. The data comes
   in streams (the opening layers, then a stream per layer drawn only from near zooms, then one
   per point layer), each a gzip stream in base64 pieces numbered through the page
   (gk-data-0, gk-data-1, …). A short script after each piece hands it on: the pieces of an
   eager stream go to a worker, which decodes and inflates them on another thread as the
   browser goes on parsing; a lazy stream (points, off when the page opens) is inflated only
   when asked for. Without workers (or if the worker fails) the same is done on the main
   thread. Defines window.gridkitUnpack = { feed(k), done(name) → Promise<ArrayBuffer>,
   where }. */
(() => {
  'use strict';
  if (window.gridkitUnpack) return;
  const header = JSON.parse(document.getElementById('gk-header').textContent);
  const streams = header.streams;
  const text = (k) => document.getElementById(`gk-data-${k}`).textContent.trim();
  const sizeOf = (s) => s.json[0] + s.json[1];
  const piecesOf = (s) => Array.from({ length: s.pieces[1] }, (_, j) => s.pieces[0] + j);
  const streamOf = (k) => streams.findIndex((s) => k >= s.pieces[0] && k < s.pieces[0] + s.pieces[1]);

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

  // On the main thread: one stream at once, once its pieces are read.
  function here(s) {
    const inflate = inflater(sizeOf(s));
    for (const k of piecesOf(s)) inflate.write(text(k));
    return inflate.end();
  }

  let worker = null, failed = false;
  const parsed = new Set(), posted = new Set(), results = new Map(), whenParsed = new Map();
  const pending = new Map(); // stream index → { resolve, reject } while the worker inflates it
  try {
    const code = `const inflater = ${inflater.toString()};
      const inflates = {};
      onmessage = (e) => {
        const m = e.data;
        if (m.size !== undefined) inflates[m.stream] = inflater(m.size);
        else if (m.text !== undefined) inflates[m.stream].write(m.text);
        else inflates[m.stream].end().then((b) => postMessage({ stream: m.stream, buffer: b }, [b]),
          (err) => postMessage({ stream: m.stream, error: String(err?.message || err) }));
      };`;
    const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
    worker = new Worker(url);
    URL.revokeObjectURL(url);
    // A worker the browser refuses to run (a policy, an old engine): the main thread does it.
    worker.onerror = (e) => {
      e.preventDefault();
      failed = true;
      for (const [i, { resolve }] of pending) resolve(here(streams[i]));
      pending.clear();
    };
    worker.onmessage = (e) => {
      const { stream, buffer, error } = e.data, waiting = pending.get(stream);
      pending.delete(stream);
      if (waiting) (error ? waiting.reject(new Error(error)) : waiting.resolve(buffer));
      if (results.size === streams.length && !pending.size) worker.terminate();
    };
    streams.forEach((s, i) => { if (s.eager) worker.postMessage({ stream: i, size: sizeOf(s) }); });
  } catch (e) {
    worker = null;
  }

  const post = (k) => {
    if (posted.has(k)) return;
    posted.add(k);
    worker.postMessage({ stream: streamOf(k), text: text(k) });
  };
  const allParsed = (i) => piecesOf(streams[i]).every((k) => parsed.has(k));
  // Resolves once every piece of stream i is read (the script after its last piece has run).
  const read = (i) => {
    if (allParsed(i)) return Promise.resolve();
    if (!whenParsed.has(i)) {
      let resolve;
      whenParsed.set(i, { promise: new Promise((r) => { resolve = r; }), resolve: () => resolve() });
    }
    return whenParsed.get(i).promise;
  };
  // Whatever happened to a script: once the document is read, so are all the pieces.
  document.addEventListener('DOMContentLoaded', () => {
    for (const s of streams) for (const k of piecesOf(s)) parsed.add(k);
    for (const { resolve } of whenParsed.values()) resolve();
  });

  window.gridkitUnpack = {
    // Where the data was inflated: 'worker', or 'page' when the main thread had to.
    get where() { return worker && !failed ? 'worker' : 'page'; },
    feed(k) {
      parsed.add(k);
      const i = streamOf(k);
      if (worker && !failed && streams[i].eager) post(k);
      if (whenParsed.has(i) && allParsed(i)) whenParsed.get(i).resolve();
    },
    done(name) {
      const i = streams.findIndex((s) => s.name === name);
      if (i < 0) return Promise.reject(new Error(`no map data named ${name}`));
      if (!results.has(i)) {
        results.set(i, read(i).then(() => {
          if (!worker || failed) return here(streams[i]);
          return new Promise((resolve, reject) => {
            pending.set(i, { resolve, reject });
            if (!streams[i].eager) worker.postMessage({ stream: i, size: sizeOf(streams[i]) });
            for (const k of piecesOf(streams[i])) post(k);
            worker.postMessage({ stream: i, end: true });
          });
        }));
      }
      return results.get(i);
    },
  };
})();
