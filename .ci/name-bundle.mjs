// Names the split bundle for the server and packs each page group's chunks (called by
// .ci/build-site).
//
// In: <pkg> holding what wasm-bindgen and wasm-split-cli wrote: patchbay.js, patchbay_bg.wasm,
// __wasm_split.js (the chunk loader) and the chunks (chunk_N.wasm, split_<group>_<n>.wasm).
// Out, in <pkg>: every file under a name carrying one hash of the whole set
// (patchbay.<h>.js, patchbay.<h>.wasm, __wasm_split.<h>.js, chunk_N.<h>.wasm, ...), cached a year
// by the server; one pack per page group (pack_<group>.<h>.bin: the group's chunks end to end);
// __wasm_split_manifest.<h>.json, which the server reads to preload a page's pack on a direct
// visit ({ split point: [the pack's file name] }); and the lines for hash.txt on stdout. One
// hash for the set, not one per file: patchbay.js and the loader import each other, so neither
// name could carry the other's content hash.
//
// Why packs: a page needs its group's 50 to 60 chunks. Compressed one by one they weigh about a
// fifth more than compressed as one file (brotli finds the code they repeat of each other only
// within one file), and each is a request with its headers. The loader is rewritten so that a
// group loads from its pack when the page preloaded it (a direct visit: the group's first
// load), or when the pack costs less than fetching the chunks the group still lacks one by
// one, counting each file's compressed bytes and REQUEST_COST_BYTES per request. A pack is
// part of a direct visit's weight, which the page budget counts; loaded later, it is a lazily
// loaded file, so the loader takes it then only within the budget of one
// (LAZY_MAX_BROTLI_BYTES). ARCHITECTURE.md, "The browser bundle".
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const pkg = process.argv[2];
if (!pkg) {
  console.error('usage: name-bundle.mjs <pkg dir> [brotli quality the files are served at]');
  process.exit(2);
}
const LOADER = '__wasm_split.js';
// e2e/budgets.mjs' BUDGET_LAZY_CHUNK_BROTLI_BYTES.
const LAZY_MAX_BROTLI_BYTES = 250 * 1024;
// What a request costs besides its body, in bytes: its headers both ways, about 300 bytes each,
// and the wait it may add (six run at once over HTTP/1.1).
const REQUEST_COST_BYTES = 1000;
// Writes <file>.br beside `file` at the quality .ci/build-site serves the profile with
// (argv[3]; build-site keeps it) and returns its size.
const quality = Number(process.argv[3] ?? 11);
function brotliBeside(file) {
  const bytes = readFileSync(file);
  const compressed = brotliCompressSync(bytes, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: quality, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });
  writeFileSync(`${file}.br`, compressed);
  return compressed.length;
}

// Put into the loader after its import, beside `const HASH = "<h>"`, `const CHUNKS = [[name,
// size, compressed size]]` (the file ./<name>.<h>.wasm) and `const PACKS = { <split point>:
// { file, bytes: <compressed size>, parts: [index in CHUNKS, in the pack's order] } }`. A
// split point's load runs its chunks' fetchers at once, before its first await, so the pack
// chosen for it is known to each fetchPart call.
const PACK_LOADER = `const requested = new Set();
const packFiles = new Map();
let packOfThisLoad;
function fromPackFirst(point, load) {
    return (...args) => {
        const pack = PACKS[point];
        const missing = pack.parts.filter((chunk) => !requested.has(chunk));
        // What the page preloaded, on its first load only: a retry fetches the chunks.
        const preloaded = missing.length === pack.parts.length
            && document.querySelector(\`link[rel=preload][href$="/\${pack.file}"]\`);
        const oneByOne = missing.reduce((sum, chunk) => sum + CHUNKS[chunk][2] + ${REQUEST_COST_BYTES}, 0);
        const cheaper = pack.bytes <= ${LAZY_MAX_BROTLI_BYTES} && pack.bytes + ${REQUEST_COST_BYTES} < oneByOne;
        packOfThisLoad = preloaded || cheaper ? pack : undefined;
        try {
            return load(...args);
        } finally {
            packOfThisLoad = undefined;
        }
    };
}
function loadChunk(chunk) {
    return makeLoad(() => {
        const src = fetchPart(chunk);
        return async (imports) => (WebAssembly.instantiateStreaming(src, imports));
    }, []);
}
function fetchPart(chunk) {
    requested.add(chunk);
    const [name, length] = CHUNKS[chunk];
    if (!packOfThisLoad?.parts.includes(chunk)) return fetch(new URL(\`./\${name}.\${HASH}.wasm\`, import.meta.url));
    const { file, parts } = packOfThisLoad;
    if (!packFiles.has(file)) {
        const bytes = fetch(new URL(\`./\${file}\`, import.meta.url)).then((response) => {
            if (!response.ok) throw new Error(\`\${file}: \${response.status}\`);
            return response.arrayBuffer();
        });
        // A pack that failed is not kept; the load, retried, fetches the chunks one by one.
        bytes.catch(() => packFiles.delete(file));
        packFiles.set(file, bytes);
    }
    const offset = parts.slice(0, parts.indexOf(chunk)).reduce((sum, before) => sum + CHUNKS[before][1], 0);
    const response = packFiles.get(file).then((buffer) => new Response(new Uint8Array(buffer, offset, length), {
        headers: { 'Content-Type': 'application/wasm' },
    }));
    // A chunk whose load stops at a failed dependency never reads its response: the failure
    // is reported once, by the load, not again as an unhandled rejection.
    response.catch(() => {});
    return response;
}
`;
const isChunk = (name) => /^(chunk|split)_\w+\.wasm$/.test(name);

const loader = readFileSync(join(pkg, LOADER), 'utf8');
const chunks = readdirSync(pkg).filter(isChunk).sort();

// const __chunk_4 = makeLoad(() => { const src = fetch(new URL("./chunk_4.wasm", ...
// export const __wasm_split_load_<split point> = wrapAsyncCb(makeLoad(() => { ... "./split_x.wasm" ... }, [__chunk_4, ...]));
const loaderFile = new Map();
for (const [, variable, file] of loader.matchAll(/const (__chunk_\d+) = makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/([\w]+)\.wasm"/g)) {
  loaderFile.set(variable, file);
}
const splitPoints = [...loader.matchAll(
  /export const __wasm_split_load_(\w+) = wrapAsyncCb\(makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/(\w+)\.wasm"[\s\S]*?\}\s*,\s*\[([^\]]*)\]\)\)/g,
)].map(([, point, file, deps]) => ({
  point,
  files: [...deps.split(',').map((d) => d.trim()).filter(Boolean).map((d) => {
    const dep = loaderFile.get(d);
    if (!dep) throw new Error(`${LOADER}: ${point} needs ${d}, which loads no chunk`);
    return dep;
  }), file],
}));
if (chunks.length && !splitPoints.length) {
  throw new Error(`${LOADER}: no split point found beside ${chunks.length} chunks (has wasm-split-cli's output changed?)`);
}

const hash = createHash('sha256');
for (const name of ['patchbay.js', 'patchbay_bg.wasm', LOADER, ...chunks]) hash.update(readFileSync(join(pkg, name)));
const h = hash.digest('hex').slice(0, 16);

const js = readFileSync(join(pkg, 'patchbay.js'), 'utf8');
// Only the import statements change: the same string is also the import object's key, which
// must stay the module name the wasm imports from.
const importOfLoader = `from "./${LOADER}"`;
if (chunks.length && !js.includes(importOfLoader)) throw new Error(`patchbay.js does not import ./${LOADER}`);
writeFileSync(join(pkg, `patchbay.${h}.js`), js.replaceAll(importOfLoader, `from "./__wasm_split.${h}.js"`));
renameSync(join(pkg, 'patchbay_bg.wasm'), join(pkg, `patchbay.${h}.wasm`));
let namedLoader = loader.replaceAll('from "./patchbay.js"', `from "./patchbay.${h}.js"`);
for (const chunk of chunks) {
  const stem = chunk.slice(0, -'.wasm'.length);
  namedLoader = namedLoader.replaceAll(`"./${chunk}"`, `"./${stem}.${h}.wasm"`);
  renameSync(join(pkg, chunk), join(pkg, `${stem}.${h}.wasm`));
}

// Each chunk's place in the loader's CHUNKS, by its stem.
const chunkIndex = new Map();
const chunkTable = chunks.map((chunk, index) => {
  const stem = chunk.slice(0, -'.wasm'.length);
  chunkIndex.set(stem, index);
  const file = join(pkg, `${stem}.${h}.wasm`);
  return [stem, statSync(file).size, brotliBeside(file)];
});
const packs = {};
const manifest = {};
for (const { point, files } of splitPoints) {
  const file = `pack_${point.replace(/_\d+$/, '')}.${h}.bin`;
  writeFileSync(join(pkg, file), Buffer.concat(files.map((stem) => readFileSync(join(pkg, `${stem}.${h}.wasm`)))));
  packs[point] = { file, bytes: brotliBeside(join(pkg, file)), parts: files.map((stem) => chunkIndex.get(stem)) };
  manifest[point] = [file];
}
writeFileSync(join(pkg, `__wasm_split.${h}.js`), packedLoader(namedLoader, packs));
rmSync(join(pkg, LOADER));
rmSync(join(pkg, 'patchbay.js'));
writeFileSync(join(pkg, `__wasm_split_manifest.${h}.json`), JSON.stringify(manifest));

console.log(`js: ${h}\nwasm: ${h}\nsplit: ${h}\nmanifest: ${h}`);

// The loader with every chunk fetched through fetchPart and every split point's load through
// fromPackFirst (both in PACK_LOADER), which take a group's chunks from its pack when the page
// preloaded it or it costs less than the chunks the group still lacks.
function packedLoader(namedLoader, packs) {
  let fetches = 0;
  let packed = namedLoader.replace(
    /const src = fetch\(new URL\("\.\/(\w+)\.\w+\.wasm", import\.meta\.url\)\);/g,
    (_, stem) => {
      fetches += 1;
      return `const src = fetchPart(${chunkIndex.get(stem)});`;
    },
  );
  if (fetches !== chunks.length) {
    throw new Error(`${LOADER}: ${fetches} chunk fetches found for ${chunks.length} chunks (has wasm-split-cli's output changed?)`);
  }
  // Every page loads the loader: each chunk's load made by one function, without the comment
  // listing the split points that share it, costs a third of its compressed size.
  packed = packed.replace(/^\/\* [\w, ]+ \*\/\n/gm, '').replace(
    /makeLoad\(\(\) => \{\s*const src = fetchPart\((\d+)\);\s*return async \(imports\) => \(WebAssembly\.instantiateStreaming\(src, imports\)\);\s*\}\s*,\s*\[\]\);/g,
    (_, chunk) => `loadChunk(${chunk});`,
  );
  for (const point of Object.keys(packs)) {
    const start = `export const __wasm_split_load_${point} = wrapAsyncCb(makeLoad(`;
    const at = packed.indexOf(start);
    const end = packed.indexOf(']));', at);
    if (at < 0 || end < 0) throw new Error(`${LOADER}: no load for ${point}`);
    packed = `${packed.slice(0, at)}export const __wasm_split_load_${point} = fromPackFirst(${JSON.stringify(point)}, wrapAsyncCb(makeLoad(${packed.slice(at + start.length, end)}])));${packed.slice(end + ']));'.length)}`;
  }
  const imports = packed.indexOf('\n') + 1;
  return `${packed.slice(0, imports)}\nconst HASH = "${h}";\nconst CHUNKS = ${JSON.stringify(chunkTable)};\nconst PACKS = ${JSON.stringify(packs)};\n${PACK_LOADER}${packed.slice(imports)}`;
}
