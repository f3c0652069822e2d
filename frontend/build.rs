//! The site build splits the linked WebAssembly into per-page chunks (`wasm-split`), which
//! needs the linker's relocations kept in the output.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--emit-relocs");
    }
}
