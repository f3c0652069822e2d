// Names the split bundle for the server (called by .ci/build-site).
//
// In: <pkg> holding what wasm-bindgen and wasm-split-cli wrote: patchbay.js, patchbay_bg.wasm,
// __wasm_split.js (the chunk loader) and the chunks (chunk_N.wasm, split_<group>_<n>.wasm).
// Out, in <pkg>: every file under a name carrying one hash of the whole set
// (patchbay.<h>.js, patchbay.<h>.wasm, __wasm_split.<h>.js, chunk_N.<h>.wasm, ...), cached a year
// by the server; __wasm_split_manifest.<h>.json, which Leptos reads to preload a page's chunks
// on a direct visit ({ split point: [chunk stems it needs, its own last] }); and the lines for
// hash.txt on stdout. One hash for the set, not one per file: patchbay.js and the loader import
// each other, so neither name could carry the other's content hash.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const pkg = process.argv[2];
if (!pkg) {
  console.error('usage: name-bundle.mjs <pkg dir>');
  process.exit(2);
}
const LOADER = '__wasm_split.js';
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
writeFileSync(join(pkg, `__wasm_split.${h}.js`), namedLoader);
rmSync(join(pkg, LOADER));
rmSync(join(pkg, 'patchbay.js'));
const manifest = Object.fromEntries(splitPoints.map(({ point, files }) => [point, files.map((f) => `${f}.${h}`)]));
writeFileSync(join(pkg, `__wasm_split_manifest.${h}.json`), JSON.stringify(manifest));

console.log(`js: ${h}\nwasm: ${h}\nsplit: ${h}\nmanifest: ${h}`);
